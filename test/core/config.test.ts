import assert from 'node:assert/strict';
import { loadConfig } from '../../core/config';

describe('config', () => {
  it('has embedded defaults for a bare machine', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 3000);
    assert.equal(config.HOST, '127.0.0.1');
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.TEMPORAL_ADDRESS, '127.0.0.1:7233');
    assert.equal(config.BANK_SIM_URL, 'http://127.0.0.1:4100');
    assert.equal(config.RAIL_TIME, 'demo');
    assert.equal(config.ACH_FILE_MODE, 'per_window');
    assert.equal(config.BANK_INBOX_POLL_MS, 1_000);
  });

  it('stops on a bad value with a message naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ PORT: 'eighty' }, /PORT/],
      [{ PORT: '70000' }, /PORT/],
      [{ DATABASE_URL: 'postgres://x/y' }, /DATABASE_URL: must look like mysql:/],
      [{ RAIL_TIME: 'fast' }, /RAIL_TIME/],
      [{ TEMPORAL_ADDRESS: 'localhost' }, /TEMPORAL_ADDRESS: must be host:port/],
      [{ OPS_API_KEY: 'short' }, /OPS_API_KEY: must be at least 16 characters/],
      [{ BANK_SIM_URL: 'not a url' }, /BANK_SIM_URL/],
      [{ BANK_INBOX_POLL_MS: '10' }, /BANK_INBOX_POLL_MS/],
      [{ BANK_INBOX_POLL_MS: 'often' }, /BANK_INBOX_POLL_MS/],
      [{ CODEC_LOCAL_UI_DECODE: 'yes' }, /CODEC_LOCAL_UI_DECODE/],
      [{ CODEC_LOCAL_UI_DECODE: 'true', HOST: '0.0.0.0' }, /CODEC_LOCAL_UI_DECODE=true needs HOST to be a loopback address/],
      // The one-file-per-payout mode is gone: a deployment asking for it is told, not silently batched.
      [{ ACH_FILE_MODE: 'per_payout' }, /ACH_FILE_MODE: per_payout was removed: ACH payouts go out in one NACHA file per cut-off window/],
    ];
    for (const [env, message] of bad) assert.throws(() => loadConfig(env), message, JSON.stringify(env));
  });
});
