import { describe, expect, test } from 'vitest';
import { dropDatabase } from './scratch.js';

/**
 * Dropping a scratch database while autovacuum works on it: FORCE refuses a role that is
 * not a superuser (42501), and the plain DROP, which stops autovacuum itself, is used.
 * The server's answers are scripted here: autovacuum cannot be made to run on cue.
 */
describe('dropDatabase', () => {
  /** An admin handle that answers each statement with the next scripted outcome. */
  function scripted(outcomes: (string | undefined)[]) {
    const sent: string[] = [];
    return {
      sent,
      admin: {
        async query<Row>(sql: string): Promise<Row[]> {
          sent.push(sql.includes('FORCE') ? 'force' : 'plain');
          const code = outcomes.shift();
          if (code) throw Object.assign(new Error(`scripted ${code}`), { code });
          return [];
        },
      },
    };
  }

  test('FORCE alone when nothing stands in the way', async () => {
    const { admin, sent } = scripted([undefined]);
    await dropDatabase(admin, 'lk_test_x');
    expect(sent).toEqual(['force']);
  });

  test('autovacuum at work: FORCE is refused, the plain DROP goes through', async () => {
    const { admin, sent } = scripted(['42501', undefined]);
    await dropDatabase(admin, 'lk_test_x');
    expect(sent).toEqual(['force', 'plain']);
  });

  test('a session back meanwhile: FORCE again', async () => {
    const { admin, sent } = scripted(['42501', '55006', undefined]);
    await dropDatabase(admin, 'lk_test_x');
    expect(sent).toEqual(['force', 'plain', 'force']);
  });

  test('other errors, and a refusal that lasts, are thrown', async () => {
    await expect(dropDatabase(scripted(['3D000']).admin, 'lk_test_x')).rejects.toMatchObject({
      code: '3D000',
    });
    const lasting = scripted(Array.from({ length: 10 }, (_, i) => (i % 2 ? '55006' : '42501')));
    await expect(dropDatabase(lasting.admin, 'lk_test_x')).rejects.toMatchObject({
      code: '42501',
    });
    expect(lasting.sent.filter((kind) => kind === 'force')).toHaveLength(5);
  });
});
