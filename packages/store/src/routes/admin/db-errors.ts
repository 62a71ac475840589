import { StoreError } from '../../errors.js';

/**
 * PostgreSQL refusals of admin input the schemas cannot express (a value out of a
 * column's range, a reference to a missing row) as 4xx instead of 500:
 * class 22 (data exception) → 400, class 23 (integrity constraint) → 409.
 */
export async function refusedByDatabase<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('22'))
      throw new StoreError('BAD_REQUEST', 'A value is out of range.');
    if (typeof code === 'string' && code.startsWith('23'))
      throw new StoreError('CONFLICT', 'The change conflicts with existing data.');
    throw error;
  }
}
