import type { StateData, StateStore, Transition } from './state.js';
import { emptyState } from './state.js';

/**
 * State held in memory: lost when the process ends. For tests, servers that verify on
 * behalf of others, and apps that keep state elsewhere. Steps are synchronous, so a step
 * is atomic against every other step in the realm without a lock.
 */
export function memoryState(initial?: StateData): StateStore {
  let state: StateData | undefined = initial;
  return {
    async transact<T>(product: string, step: (state: StateData) => Transition<T>): Promise<T> {
      if (state === undefined || state.product !== product) state = emptyState(product);
      return step(state).value;
    },
  };
}
