// Runs in a worker the bootstrap starts: the first Intl object a page makes loads ICU's locale data, which
// is shared by the whole renderer process. Making them here loads it on another thread, so the table's first
// render (relative times, grouped counts) does not spend tens of milliseconds on it on the main thread.
new Intl.RelativeTimeFormat('en', { numeric: 'always' }).format(-2, 'year');
new Intl.NumberFormat('en').format(12_345);
close();
