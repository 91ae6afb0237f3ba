#!/usr/bin/env node
// The `webccid` command: loads the built CLI (dist/node/cli.js, made by `npm run build`).
// Usage: npx webccid list | npx webccid probe [--out trace.json] [--verify-pin]  (see --help)
let cli;
try {
  cli = await import('../dist/node/cli.js');
} catch (error) {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('cli.js')) {
    console.error('webccid: the package is not built (dist/node/cli.js is missing): run `npm run build` first.');
    process.exit(1);
  }
  throw error;
}
const code = await cli.main(process.argv.slice(2));
// The usb package keeps hot-plug handles open: exit explicitly once the command is done.
process.exit(code);
