#!/usr/bin/env node
// The `nsynth` command; the compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// Dawn's instance keeps the event loop alive; exit explicitly once the command is done.
process.exit(code);
