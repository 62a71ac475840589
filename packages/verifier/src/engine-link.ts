/**
 * How `@licensekit/verifier/offline` reaches the engine behind a Verifier (its state,
 * device and checks) without widening the Verifier interface that every app sees.
 *
 * A registered symbol rather than a module-level WeakMap: in browsers the offline entry is
 * a bundle of its own (so that the main entry stays within its size budget), with its own
 * copy of every module it imports. A WeakMap would be a different map in each bundle;
 * `Symbol.for` is one key for the whole realm.
 */
export const ENGINE_LINK: unique symbol = Symbol.for('licensekit.verifier.engine');
