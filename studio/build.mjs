// Bundles the studio's modeler (studio/src) with esbuild into api/static/studio/ (git-ignored):
// modeler.js, modeler.css and the bpmn font. Run by `make install` after `npm ci`.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'api', 'static', 'studio');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { modeler: join(root, 'studio', 'src', 'main.js'), 'modeler-style': join(root, 'studio', 'src', 'style.css') },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'iife',
  target: ['es2020'],
  outdir: out,
  jsx: 'automatic',
  jsxImportSource: '@bpmn-io/properties-panel/preact',
  loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file', '.svg': 'file' },
  logLevel: 'warning',
  legalComments: 'linked',
});
writeFileSync(join(out, 'BUILT'), `built by studio/build.mjs at ${new Date().toISOString()}\n`);
console.log(`studio modeler bundled into ${out}`);
