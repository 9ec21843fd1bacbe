#!/usr/bin/env node
// The command-line tool: the built CommonJS entry (npm run build) does the work; see --help.
"use strict";
require("../dist/cjs/cli/main.js")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
