// docs/api.md is the API reference: it documents every value the package root exports and
// nothing else, and the names it marks **B** are exported by the browser entry.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as root from '../src/index.js';
import * as browser from '../src/browser.js';

const doc = readFileSync(join(__dirname, '..', 'docs', 'api.md'), 'utf8');
const items = doc.split('\n').filter((l) => l.startsWith('- `')).map((l) => {
  const head = l.split(' — ')[0];
  return { names: [...head.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((m) => m[1]), browser: head.includes('**B**') };
});
const documented = items.flatMap((i) => i.names);

describe('docs/api.md', () => {
  it('documents every export of the package root, once, and no name it does not export', () => {
    const exported = Object.keys(root).sort();
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(exported);
  });

  it('marks **B** exactly what the browser entry exports among them', () => {
    const inBrowser = new Set(Object.keys(browser));
    const marked = items.filter((i) => i.browser).flatMap((i) => i.names);
    expect(marked.filter((n) => !inBrowser.has(n))).toEqual([]);
    expect(documented.filter((n) => inBrowser.has(n) && !marked.includes(n))).toEqual([]);
  });
});
