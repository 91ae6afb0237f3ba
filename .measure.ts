import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const r = await build({ entryPoints: [process.cwd() + '/bench/typical-use.ts'], bundle: true, minify: true, splitting: true, format: 'esm', platform: 'browser', target: 'es2022', outdir: '/x', write: false, metafile: true, logLevel: 'silent' });
let total = 0;
for (const f of r.outputFiles) { const gz = gzipSync(f.contents, { level: 9 }).length; console.log(f.path, f.contents.length, gz); }
const out = Object.entries(r.metafile!.outputs).find(([, o]) => o.entryPoint)!;
const rows = Object.entries(out[1].inputs).map(([k, v]) => [k.replace(/^.*src\//, ''), v.bytesInOutput] as const).sort((a, b) => b[1] - a[1]);
for (const [k, v] of rows) console.log(String(v).padStart(7), k);
if (process.argv[2]) { const f = r.outputFiles.find((f) => f.path.endsWith('typical-use.js'))!; (await import('node:fs')).writeFileSync(process.argv[2], f.contents); }
