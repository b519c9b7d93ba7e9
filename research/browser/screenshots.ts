/**
 * The README's screenshots of the browser app (docs/browser/*.png), from runs longer than the tests
 * make: LeNet three epochs on all 60,000 images (d2l's lr 0.9, batch 256), a drawing classified; a GRU
 * 30 epochs with its cpu preset (H 128, lr 2) and a sample at temperature 0.5; the optimisers from
 * d2l's start. Seed 0 throughout; the page does the training, in headless Chromium, 2 threads.
 *
 *   npm run build && PFS_DATA_DIR=../shared/data node dist/research/browser/screenshots.js [OUT_DIR]
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from '../../bench/chromium.js';
import { startServer } from '../../cli/serve.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const out = resolve(process.argv[2] ?? join(ROOT, 'docs', 'browser'));
mkdirSync(out, { recursive: true });
const exe = findChromium();
if (exe.path === null) throw new Error(exe.why);
const { server, url } = await startServer(0, '127.0.0.1');
const browser = await chromium.launch({ executablePath: exe.path, headless: true });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const done = async (id: string) => {
  await page.waitForFunction((i) => {
    const el = document.getElementById(i)!;
    return el.dataset.done !== undefined || el.classList.contains('error');
  }, id, { timeout: 1_800_000 });
  console.log(`${id}: ${await page.textContent(`#${id}`)}`);
};

await page.goto(`${url}?threads=2#lenet`);
await page.waitForSelector('#backend[data-ready="1"]', { timeout: 60_000 });
await page.fill('#lenet-epochs', '3');
await page.click('#lenet-train');
await done('lenet-status');
console.log(await page.textContent('#lenet-acc'), '|', await page.textContent('#lenet-speed'));
const box = (await page.locator('#draw').boundingBox())!;
// a pair of trousers: two legs from a waistband
await page.mouse.move(box.x + 90, box.y + 30); await page.mouse.down(); await page.mouse.move(box.x + 190, box.y + 30, { steps: 6 });
await page.mouse.move(box.x + 200, box.y + 260, { steps: 10 }); await page.mouse.up();
await page.mouse.move(box.x + 90, box.y + 30); await page.mouse.down(); await page.mouse.move(box.x + 80, box.y + 260, { steps: 10 }); await page.mouse.up();
await page.mouse.move(box.x + 140, box.y + 35); await page.mouse.down(); await page.mouse.move(box.x + 140, box.y + 120, { steps: 6 }); await page.mouse.up();
await page.waitForSelector('#draw-result[data-cls]');
console.log('drawing:', await page.textContent('#draw-result'));
await page.screenshot({ path: join(out, 'lenet.png'), fullPage: true });

await page.goto(`${url}?threads=2#lm`);
await page.waitForSelector('#backend[data-ready="1"]', { timeout: 60_000 });
await page.selectOption('#lm-model', 'gru');
await page.fill('#lm-epochs', '30');
await page.click('#lm-train');
await done('lm-status');
await page.$eval('#lm-temp', (el) => {
  (el as HTMLInputElement).value = '0.5';
  el.dispatchEvent(new Event('input'));
});
await page.click('#lm-sample');
await page.waitForFunction(() => (document.getElementById('lm-output')?.textContent ?? '').length > 0);
console.log('sample:', await page.textContent('#lm-output'));
await page.screenshot({ path: join(out, 'lm.png'), fullPage: true });

await page.goto(`${url}?threads=2#optim`);
await page.waitForSelector('#opt-table[data-start]', { timeout: 60_000 });
await page.screenshot({ path: join(out, 'optim.png'), fullPage: true });
await browser.close();
server.close();
console.log(`wrote ${out}/lenet.png, lm.png, optim.png`);
