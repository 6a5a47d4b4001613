// TabCLI module.
