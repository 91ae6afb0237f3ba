import { measureBundle } from './bench/bundle-size.js';
console.log(await measureBundle('bench/typical-use.ts'));
