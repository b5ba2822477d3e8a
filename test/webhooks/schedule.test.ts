/**
 * The delivery settings from configuration: the retry schedule (exponential from the base, capped,
 * given up after the maximum age) and whether private addresses may be called.
 */
import assert from 'node:assert/strict';
import { loadConfig, webhookPrivateUrlsAllowed } from '../../core/config';
import { dispatcherOptions, retryDelayMs } from '../../webhooks/dispatcher';

describe('webhooks: retry schedule', () => {
  it('defaults to 30 s doubling up to 6 h, for 3 days, private addresses refused on a non-loopback HOST', () => {
    const options = dispatcherOptions(loadConfig({ HOST: '0.0.0.0' }));
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, options)), [30_000, 60_000, 120_000, 240_000, 480_000]);
    assert.equal(retryDelayMs(10, options), 15_360_000);
    assert.equal(retryDelayMs(11, options), 6 * 3_600_000);
    assert.equal(retryDelayMs(1_000, options), 6 * 3_600_000, 'no overflow for absurd attempt counts');
    assert.equal(options.maxAgeMs, 3 * 86_400_000);
    assert.equal(options.allowPrivateAddresses, false);
    // Attempts that fit in 3 days without jitter: the first, then one per delay.
    let elapsedMs = 0;
    let attempts = 1;
    while (elapsedMs + retryDelayMs(attempts, options) <= options.maxAgeMs) elapsedMs += retryDelayMs(attempts++, options);
    assert.equal(attempts, 21);
  });

  it('is compressed through the environment, and refuses nonsense naming the variable', () => {
    const options = dispatcherOptions(loadConfig({ WEBHOOK_RETRY_BASE_MS: '50', WEBHOOK_RETRY_MAX_MS: '400', WEBHOOK_MAX_AGE_MS: '2000', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }));
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, options)), [50, 100, 200, 400, 400]);
    assert.equal(options.allowPrivateAddresses, true);
    assert.throws(() => loadConfig({ WEBHOOK_RETRY_BASE_MS: '0' }), /WEBHOOK_RETRY_BASE_MS/);
    assert.throws(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'yes' }), /WEBHOOK_ALLOW_PRIVATE_URLS/);
  });

  it('allows endpoints on this machine by the HOST: on a loopback one (npm start) yes, elsewhere no, and never by override', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) assert.equal(webhookPrivateUrlsAllowed(loadConfig({ HOST: host })), true, host);
    for (const host of ['0.0.0.0', '10.0.0.5', 'api.internal']) assert.equal(webhookPrivateUrlsAllowed(loadConfig({ HOST: host })), false, host);
    assert.equal(webhookPrivateUrlsAllowed(loadConfig({ HOST: '127.0.0.1', WEBHOOK_ALLOW_PRIVATE_URLS: 'false' })), false, 'a loopback HOST may still refuse them');
    assert.throws(() => loadConfig({ HOST: '0.0.0.0', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }), /WEBHOOK_ALLOW_PRIVATE_URLS=true needs HOST to be a loopback address/);
  });
});
