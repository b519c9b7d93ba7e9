#!/usr/bin/env node
/**
 * The PyTorch check for every paper (after `npm run build`; needs /usr/bin/python3 with torch):
 *
 *   node scripts/torch-check-all.mjs [PAPER | PAPER=CHECKPOINT ...]
 *
 * For each paper (default: every one papers/interop.ts maps), a checkpoint (the one given, else a net of a
 * small config — the fixture's in test/fixtures/interop, or the cpu preset's input size for the vision nets —
 * with every weight drawn anew), then `pfs export <paper> --checkpoint C --torch E --probe P` and
 * `scripts/torch_twin.py check E P`: the twin loads E with load_state_dict(strict=True) and its outputs on
 * P's batch are compared with ours. Prints what both printed; exit status 1 when a check failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(join(ROOT, 'dist', p));
await dist('src/backend/auto.js');
const { PORTABLE } = await dist('papers/interop.js');
const { VISION_PAPERS } = await dist('papers/vision/papers.js');
const { loadSafetensors } = await dist('src/io/atomic.js');
const { saveCheckpoint } = await dist('src/train/checkpoint.js');
const { Generator } = await dist('src/tensor/rng.js');
const { Tensor } = await dist('src/tensor/tensor.js');
const { noGrad } = await dist('src/autograd/mode.js');

const FIXTURES = join(ROOT, 'test', 'fixtures', 'interop');
const given = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')).map(([p, c]) => [p, c]));
const papers = Object.keys(given).length ? Object.keys(given) : PORTABLE.map((p) => p.paper);
const dir = mkdtempSync(join(tmpdir(), 'pfs-torch-check-'));
let failed = 0;

for (const paper of papers) {
  const portable = PORTABLE.find((p) => p.paper === paper);
  if (!portable) throw new Error(`unknown paper ${paper}`);
  let ckpt = given[paper];
  if (!ckpt) {
    const fixture = readdirSync(FIXTURES).includes(`${paper}.safetensors`);
    const config = fixture
      ? JSON.parse((await loadSafetensors(join(FIXTURES, `${paper}.safetensors`))).metadata.config)
      : { size: VISION_PAPERS.find((p) => p.name === paper).presets.cpu.config.size };
    const model = portable.build(config);
    const g = new Generator(1);
    noGrad(() => {
      for (const [k, t] of Object.entries(model.stateDict())) {
        if (t.dtype !== 'float32') continue;
        // N(0, 0.5²) scaled by 1/√fan-in for matrices, so that deep nets' outputs stay finite and varied
        const fan = t.ndim >= 2 ? t.numel / t.shape[0] : 1;
        t.copy_(k.endsWith('running_var') ? Tensor.rand(t.shape, { generator: g }).add(0.5) : Tensor.randn(t.shape, { generator: g }).mul(t.ndim >= 2 ? 1 / Math.sqrt(fan) : 0.5));
      }
    });
    ckpt = join(dir, `${paper}.ckpt.safetensors`);
    await saveCheckpoint(ckpt, { model }, { run: { paper, preset: 'small', seed: 0 }, epoch: 0, history: [], config });
  }
  const exported = join(dir, `${paper}.torch.safetensors`);
  const probe = join(dir, `${paper}.probe.safetensors`);
  const ex = spawnSync(process.execPath, [join(ROOT, 'dist/cli/pfs.js'), 'export', paper, '--checkpoint', ckpt, '--torch', exported, '--probe', probe], { encoding: 'utf8' });
  if (ex.status !== 0) {
    process.stdout.write(`${paper}: pfs export failed: ${ex.stderr}`);
    failed++;
    continue;
  }
  const py = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts/torch_twin.py'), 'check', exported, probe], { encoding: 'utf8' });
  process.stdout.write(py.stdout + (py.status === 0 ? '' : py.stderr));
  if (py.status !== 0) failed++;
}
process.stdout.write(failed ? `${failed} paper(s) FAILED\n` : `all ${papers.length} papers: PASS\n`);
process.exit(failed ? 1 : 0);
