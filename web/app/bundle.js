// Bundles one page's TypeScript into one browser script with esbuild's JS API (which finds
// its binary from @esbuild/<platform>, installed by `npm ci`, whether or not npm ran its
// install script). Usage: node bundle.js <entry.ts> <out.js>
'use strict';
const esbuild = require('esbuild');

const [entry, outfile] = process.argv.slice(2);
esbuild.buildSync({
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'iife',
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
});
