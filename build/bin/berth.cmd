@echo off
rem The packaged `berth` command on Windows: the app's own Electron runs the bundled CLI as Node.
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\..\Berth.exe" "%~dp0..\app.asar\out\main\cli.js" %*
exit /b %ERRORLEVEL%
