import { describe, expect, test } from 'vitest';
import { describeQuota, formatDateTime, formatMoney } from './format.js';
import { attrs, escapeHtml, html, raw } from './html.js';

describe('html templates escape by default', () => {
  test('text and attribute values are escaped', () => {
    const name = `<script>alert("x")</script>&'\``;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</p>',
    );
  });

  test('a quote cannot end a single- or double-quoted attribute', () => {
    expect(html`<a href='${"' onclick='x"}'>`.value).toBe("<a href='&#39; onclick=&#39;x'>");
    expect(html`<a href="${'" onclick="x'}">`.value).toBe('<a href="&quot; onclick=&quot;x">');
  });

  test('nested templates and raw() pass through, everything else is text', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${raw('<br>')}${'<br>'}</p>`.value).toBe(
      '<p><b>&lt;i&gt;</b><br>&lt;br&gt;</p>',
    );
  });

  test('lists are joined with each item escaped; false, null and undefined render nothing', () => {
    expect(html`${['<a>', html`<b>`, 1, false, null, undefined]}`.value).toBe('&lt;a&gt;<b>1');
    const hidden = false;
    expect(html`<p>${hidden && html`<span>`}</p>`.value).toBe('<p></p>');
  });

  test('attrs() escapes values, writes boolean attributes and leaves out absent ones', () => {
    expect(
      attrs({ value: '"><script>', checked: true, disabled: false, id: undefined, max: 5 }).value,
    ).toBe(' value="&quot;&gt;&lt;script&gt;" checked max="5"');
  });

  test('escapeHtml covers the characters that end text or a quoted attribute', () => {
    expect(escapeHtml('&<>"\'`')).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });
});

describe('display formats', () => {
  test('money from minor units with the currency’s own digits, no float rounding', () => {
    expect(formatMoney(1500, 'USD')).toBe('$15.00');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(0, 'EUR')).toBe('€0.00');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
    expect(formatMoney(-58_500, 'USD')).toBe('-$585.00');
    expect(formatMoney(900_719_925_474_099, 'USD')).toBe('$9,007,199,254,740.99');
  });

  test('dates in UTC, quotas in words', () => {
    expect(formatDateTime('2026-02-15T12:00:00Z')).toBe('February 15, 2026 at 12:00 PM UTC');
    expect(describeQuota('exports', { limit: 1000, per: 'month' })).toBe('1,000 exports a month');
    expect(describeQuota('downloads', { limit: 50 })).toBe('50 downloads');
    expect(describeQuota('exports', { unlimited: true })).toBe('Unlimited exports');
  });
});
