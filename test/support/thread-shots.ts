// Screenshots of Slack threads as the emulator recorded them (test/support/slack-html.ts renders
// them), at a laptop's width and a 420 px phone's. With NETDOCTOR_SCREENSHOTS=1 the PNGs are
// written to docs/slack/ (npm run screenshots:slack); the heights are measured either way.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { type ShownMessage, threadPage } from './slack-html';
import { type EmulatedMessage, SlackEmulator } from './slack-emulator';

export const PHONE = { width: 420, height: 900 } as const;
export const LAPTOP = { width: 1280, height: 800 } as const;
const SHOTS_DIR = process.env.NETDOCTOR_SCREENSHOTS === '1' ? resolve(__dirname, '..', '..', 'docs', 'slack') : undefined;

/** A message as it reads now (after its edits). */
export function shown(m: EmulatedMessage): ShownMessage {
  return SlackEmulator.current(m);
}

export interface ThreadShot {
  /** Height of the rendered thread (px) at each width. */
  height: { laptop: number; phone: number };
  /** Bottom (px from the page top) of the first element matching `measureTo` on the phone, if asked. */
  phoneBottomOf?: number;
}

/**
 * Renders a thread at both widths and measures it; writes `<name>-laptop.png` / `<name>-phone.png`
 * under docs/slack/ when screenshots are asked for. `measureTo` is a CSS selector (e.g. the Approve button).
 */
export async function shootThread(browser: Browser, name: string, thread: { parent: ShownMessage; replies: ShownMessage[]; ephemerals?: ShownMessage[] }, measureTo?: string): Promise<ThreadShot> {
  const markup = threadPage(name, thread.parent, thread.replies, thread.ephemerals);
  const heights: Record<'laptop' | 'phone', number> = { laptop: 0, phone: 0 };
  let bottom: number | undefined;
  for (const [label, size] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
    const page = await browser.newPage();
    try {
      await page.setViewport(size);
      await page.setContent(markup, { waitUntil: 'load' });
      heights[label] = (await page.evaluate(`Math.ceil(document.querySelector('.thread').getBoundingClientRect().height)`)) as number;
      if (label === 'phone' && measureTo) {
        bottom = (await page.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(measureTo)}); return e ? Math.ceil(e.getBoundingClientRect().bottom + window.scrollY) : undefined; })()`)) as number | undefined;
      }
      if (SHOTS_DIR) {
        mkdirSync(SHOTS_DIR, { recursive: true });
        await page.screenshot({ path: `${join(SHOTS_DIR, `${name}-${label}`)}.png`, fullPage: true });
      }
    } finally {
      await page.close();
    }
  }
  // The figures the README quotes, printed when the PNGs are written.
  if (SHOTS_DIR) console.log(`${name}: ${heights.phone} px tall on a ${PHONE.width} px phone, ${heights.laptop} px at ${LAPTOP.width} px${bottom !== undefined ? `; ${measureTo} ends at ${bottom} px` : ''}`);
  return { height: heights, ...(bottom !== undefined ? { phoneBottomOf: bottom } : {}) };
}
