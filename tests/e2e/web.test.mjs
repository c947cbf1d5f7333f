// End-to-end test of the locker's web player: a real `skylark-locker` serving the UI's browser
// build (ui/dist-web), driven in Debian's Chromium through Playwright (playwright-core, no
// downloaded browser). A song reaches the locker from a desktop library through the `skylark`
// command; two more are dropped on the page by drag and drop. The browser signs in on the
// locker's form, searches, plays (the page's audio clock advances), seeks, edits a playlist and
// downloads a song; the playlist edit is then read back through the desktop's sync, as a second
// device would see it. Any content security policy violation fails the test.
//
// Run by `make e2e` (part of `make test`). Screenshots of each step land in target/e2e/web-*.png.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { ffmpeg, waitForPort } from './support.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const bin = process.env.SKYLARK_BIN_DIR ?? path.join(root, 'target/debug');
const lockerBin = path.join(bin, 'skylark-locker');
const cliBin = path.join(bin, 'skylark');
const webDir = path.join(root, 'ui/dist-web');
const shots = path.join(root, 'target/e2e');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'skylark-web-'));
const port = 19750 + (process.pid % 1000);
const base = `http://127.0.0.1:${port}`;
const password = 'a web player password';

let locker;
let browser;
let page;
/** Content security policy violations and page errors seen, which fail the last test. */
const problems = [];


/** A 30-second FLAC with tags, and `lyrics` if given. */
function song(file, title, artist, album, track, hz, lyrics = null) {
  ffmpeg(
    '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=30`,
    '-metadata', `title=${title}`, '-metadata', `artist=${artist}`,
    '-metadata', `album=${album}`, '-metadata', `track=${track}`, '-metadata', 'genre=Post-rock',
    ...(lyrics ? ['-metadata', `LYRICS=${lyrics}`] : []),
    file,
  );
  return file;
}


/** The `skylark` command over the desktop library in `dir`. */
function cli(dir, args, input) {
  const env = { ...process.env, SKYLARK_DATA_DIR: dir, SKYLARK_KEYCHAIN: 'off' };
  return execFileSync(cliBin, args, { env, input, encoding: 'utf8' });
}

async function shot(name) {
  await page.screenshot({ path: path.join(shots, `web-${name}.png`) });
}

/** The seek bar's position in milliseconds. */
async function positionMs() {
  return page.$eval('input[aria-label="Position"]', (input) => Number(input.value));
}

/** Drags the seek bar to `ms` and waits until the position reads at least `reached`. */
async function seekTo(ms, reached) {
  await page.$eval(
    'input[aria-label="Position"]',
    (input, value) => {
      input.value = String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    },
    ms,
  );
  await positionReaches(reached);
}

/** Waits until the seek bar's position is at least `ms`. */
async function positionReaches(ms, timeout = 10_000) {
  await page.waitForFunction(
    (at) => Number(document.querySelector('input[aria-label="Position"]').value) >= at,
    ms,
    { timeout },
  );
}

before(async () => {
  for (const [what, file] of [['the locker', lockerBin], ['the skylark command', cliBin], ['the web build', path.join(webDir, 'index.html')]]) {
    assert.ok(fs.existsSync(file), `build ${what} first: ${file} is missing`);
  }
  fs.mkdirSync(shots, { recursive: true });
  const data = path.join(work, 'locker');
  execFileSync(lockerBin, ['user', 'add', 'alice', '--data', data], { input: `${password}\n` });
  locker = spawn(lockerBin, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--web-dir', webDir], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(port, 20_000, 'the locker');

  // A desktop library uploads one song, which the web player must show too.
  const laptop = path.join(work, 'laptop');
  fs.mkdirSync(path.join(laptop, 'Music'), { recursive: true });
  song(path.join(laptop, 'Music', 'Glosoli.flac'), 'Glósóli', 'Sigur Rós', 'Takk...', '2/11', 330);
  cli(laptop, ['scan', path.join(laptop, 'Music')]);
  cli(laptop, ['locker', 'login', base, 'alice'], `${password}\n`);
  assert.equal(JSON.parse(cli(laptop, ['upload', '--json'])).uploaded, 1);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // The machine has no sound card: Chromium then plays into a fake output that keeps time.
    args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
});

after(async () => {
  await browser?.close();
  locker?.kill('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
});

test('the page sends a signed-out browser to the sign-in form, which signs in', async () => {
  await page.goto(base);
  await page.waitForURL(`${base}/login`);
  await page.fill('input[name="username"]', 'alice');
  await page.fill('input[name="password"]', 'wrong');
  await page.click('button[type="submit"]');
  await page.getByRole('alert').filter({ hasText: 'Wrong account name or password' }).waitFor();
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${base}/`);
  const grid = page.locator('[role="grid"][aria-label="Songs"]');
  await grid.locator('[data-track]', { hasText: 'Glósóli' }).waitFor({ timeout: 10_000 });
  await shot('signed-in');
});

test('music files dropped on the page upload and join the library', async () => {
  const files = [
    song(path.join(work, 'Hoppipolla.flac'), 'Hoppípolla', 'Sigur Rós', 'Takk...', '3/11', 440, 'Brosandi\nhendumst í hring'),
    song(path.join(work, 'Saeglopur.flac'), 'Sæglópur', 'Sigur Rós', 'Takk...', '4/11', 550),
  ].map((file) => ({ name: path.basename(file), data: fs.readFileSync(file).toString('base64') }));
  // A drop from the file manager: a DataTransfer holding the files, as the browser makes one.
  const dropped = await page.evaluateHandle((items) => {
    const transfer = new DataTransfer();
    for (const { name, data } of items) {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], name, { type: 'audio/flac' }));
    }
    return transfer;
  }, files);
  const target = page.locator('[data-testid="upload-drop"]');
  await target.dispatchEvent('dragenter', { dataTransfer: dropped });
  await target.dispatchEvent('dragover', { dataTransfer: dropped });
  await target.dispatchEvent('drop', { dataTransfer: dropped });
  const progress = page.locator('[data-testid="upload-progress"]');
  await progress.filter({ hasText: 'Upload done: 2 files uploaded' }).waitFor({ timeout: 30_000 });
  await shot('uploaded');
  const grid = page.locator('[role="grid"][aria-label="Songs"]');
  for (const title of ['Glósóli', 'Hoppípolla', 'Sæglópur']) {
    await grid.locator('[data-track]', { hasText: title }).waitFor({ timeout: 10_000 });
  }
});

test('search finds a song without its accents, and it plays and seeks', async () => {
  await page.fill('input[aria-label="Search your library"]', 'hoppi');
  const row = page.locator('[role="grid"][aria-label="Matching songs"] [data-track]');
  await row.filter({ hasText: 'Hoppípolla' }).waitFor({ timeout: 10_000 });
  assert.equal(await row.count(), 1);
  await row.first().dblclick();
  const bar = page.locator('footer[aria-label="Now playing"]');
  await bar.locator('.title', { hasText: 'Hoppípolla' }).waitFor({ timeout: 10_000 });
  await bar.locator('button[aria-label="Pause"]').waitFor({ timeout: 10_000 });
  // The audio element's clock advances: the song is really playing.
  await positionReaches((await positionMs()) + 1500, 15_000);
  // Seek with the keyboard: Right jumps 5 s ahead, as on the desktop.
  await page.evaluate(() => document.activeElement?.blur?.());
  const before = await positionMs();
  await page.keyboard.press('ArrowRight');
  await positionReaches(before + 4500);
  // The seek bar moves the audio too: drag it to 20 s.
  await seekTo(20_000, 19_500);
  await shot('playing');
  // Its lyrics, read by the locker from the uploaded file's tags.
  await bar.locator('button[aria-label="Show now playing"]').click();
  const lyrics = page.locator('section[aria-label="Lyrics"] li');
  await lyrics.first().waitFor({ timeout: 10_000 });
  assert.deepEqual(await lyrics.allInnerTexts(), ['Brosandi', 'hendumst í hring']);
  await bar.locator('button[aria-label="Pause"]').click();
  await bar.locator('button[aria-label="Play"]').waitFor({ timeout: 5_000 });
  await page.fill('input[aria-label="Search your library"]', '');
});

test('next plays the following song, and the volume is kept across visits', async () => {
  await page.locator('nav button', { hasText: 'Songs' }).first().click();
  const grid = page.locator('[role="grid"][aria-label="Songs"]');
  const titles = await grid.locator('[data-track] .title .text').allInnerTexts();
  await grid.locator('[data-track]').first().dblclick();
  const bar = page.locator('footer[aria-label="Now playing"]');
  await bar.locator('.title', { hasText: titles[0] }).waitFor({ timeout: 10_000 });
  await bar.locator('button[aria-label="Next"]').click();
  await bar.locator('.title', { hasText: titles[1] }).waitFor({ timeout: 10_000 });
  await bar.locator('button[aria-label="Pause"]').waitFor({ timeout: 10_000 });
  await bar.locator('button[aria-label="Pause"]').click();
  await page.$eval('input[aria-label="Volume"]', (input) => {
    input.value = '0.35';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.reload();
  await bar.locator('.title', { hasText: titles[1] }).waitFor({ timeout: 10_000 });
  assert.equal(Number(await page.$eval('input[aria-label="Volume"]', (input) => input.value)), 0.35);
});

test('a playlist made in the browser reaches a desktop through the change feed', async () => {
  await page.click('button[aria-label="New playlist"]');
  await page.fill('input[aria-label="New playlist name"]', 'Evening');
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'Evening' }).waitFor({ timeout: 5_000 });
  await page.locator('nav button', { hasText: 'Songs' }).first().click();
  const grid = page.locator('[role="grid"][aria-label="Songs"]');
  for (const title of ['Sæglópur', 'Glósóli']) {
    await grid.locator('[data-track]', { hasText: title }).click({ button: 'right' });
    await page.locator('button', { hasText: 'Add to Playlist' }).click();
    await page.locator('.submenu button', { hasText: 'Evening' }).click();
  }
  await page.locator('nav button', { hasText: 'Evening' }).click();
  const list = page.locator('[role="grid"][aria-label="Songs in Evening"] [data-track] .title .text');
  await page.waitForFunction(
    () => document.querySelectorAll('[aria-label="Songs in Evening"] [data-track]').length === 2,
    null,
    { timeout: 10_000 },
  );
  assert.deepEqual(await list.allInnerTexts(), ['Sæglópur', 'Glósóli']);
  // Move the first song down with the keyboard, as on the desktop.
  await page.locator('[role="grid"][aria-label="Songs in Evening"] [data-track]').first().click();
  await page.keyboard.press('Alt+ArrowDown');
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('[aria-label="Songs in Evening"] [data-track] .title .text')]
        .map((e) => e.textContent)
        .join('|') === 'Glósóli|Sæglópur',
    null,
    { timeout: 10_000 },
  );
  await shot('playlist');

  // A second desktop signs in and syncs: the playlist is there, in the browser's order.
  const other = path.join(work, 'desktop');
  fs.mkdirSync(other, { recursive: true });
  cli(other, ['locker', 'login', base, 'alice'], `${password}\n`);
  cli(other, ['sync']);
  const shown = cli(other, ['playlist', 'ls', 'Evening']);
  assert.match(shown, /Glósóli[\s\S]*Sæglópur/);
});

test('Apple Lossless and AIFF, which Chromium does not play, play decoded to WAV by the locker', async () => {
  const alac = path.join(work, 'Svefn-g-englar.m4a');
  const aiff = path.join(work, 'Staralfur.aiff');
  for (const [file, title, hz, codec] of [[alac, 'Svefn-g-englar', 660, ['-c:a', 'alac']], [aiff, 'Staralfur', 770, ['-write_id3v2', '1']]]) {
    ffmpeg('-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=30`, '-ac', '2', ...codec, '-metadata', `title=${title}`, '-metadata', 'artist=Sigur Rós', file);
  }
  const files = [alac, aiff].map((file) => ({ name: path.basename(file), data: fs.readFileSync(file).toString('base64') }));
  const dropped = await page.evaluateHandle((items) => {
    const transfer = new DataTransfer();
    for (const { name, data } of items) transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name));
    return transfer;
  }, files);
  const target = page.locator('[data-testid="upload-drop"]');
  for (const type of ['dragenter', 'dragover', 'drop']) await target.dispatchEvent(type, { dataTransfer: dropped });
  const asked = [];
  page.on('request', (request) => asked.push(new URL(request.url()).pathname));
  const bar = page.locator('footer[aria-label="Now playing"]');
  for (const title of ['Svefn-g-englar', 'Staralfur']) {
    await page.fill('input[aria-label="Search your library"]', title);
    const row = page.locator('[role="grid"][aria-label="Matching songs"] [data-track]', { hasText: title });
    await row.waitFor({ timeout: 30_000 });
    asked.length = 0;
    await row.dblclick();
    await bar.locator('.title', { hasText: title }).waitFor({ timeout: 10_000 });
    // The bar may still show where the song before was (20 s in): wait for this one's start.
    await page.waitForFunction(
      () => Number(document.querySelector('input[aria-label="Position"]').value) < 5_000,
      null,
      { timeout: 10_000 },
    );
    await positionReaches((await positionMs()) + 1500, 15_000);
    assert.ok(asked.some((p) => p.endsWith('/wav')), `${title} played from ${asked.join(', ')}`);
    // Seeking asks the locker for the WAV's bytes from there, and it plays on from there.
    await seekTo(20_000, 20_500);
    await shot(`converted-${title}`);
  }
  assert.deepEqual(
    await page.locator('[role="alert"]').allInnerTexts().then((t) => t.filter((x) => /Cannot play/.test(x))),
    [],
  );
  await bar.locator('button[aria-label="Pause"]').click();
  await page.fill('input[aria-label="Search your library"]', '');
});

test('a song downloads under its title, and signing out ends the session', async () => {
  await page.locator('nav button', { hasText: 'Songs' }).first().click();
  const grid = page.locator('[role="grid"][aria-label="Songs"]');
  await grid.locator('[data-track]', { hasText: 'Sæglópur' }).click({ button: 'right' });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('.menu button', { hasText: /^Download$/ }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'Sæglópur.flac');
  const saved = path.join(work, 'downloaded.flac');
  await download.saveAs(saved);
  assert.deepEqual(fs.readFileSync(saved), fs.readFileSync(path.join(work, 'Saeglopur.flac')));

  await page.locator('nav button', { hasText: 'Settings' }).click();
  await page.locator('[data-testid="account"]', { hasText: 'alice' }).waitFor();
  await page.locator('button', { hasText: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  // The old page's session is gone: going back lands on the sign-in form again.
  await page.goto(base);
  await page.waitForURL(`${base}/login`);
  assert.deepEqual(problems, []);
});
