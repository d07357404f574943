/** The Dockerfile instructions `import --change` accepts, as `docker import --change` does. */
export const changeInstructions = [
  'CMD',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'LABEL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;
