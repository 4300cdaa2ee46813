/** Bad input data (a malformed file, a checkpoint of the wrong shape): CLIs exit 2 on it. */
export class InputError extends Error {}

/** Runs fn, turning any Error it throws into an InputError with the same message. */
export function asInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw e instanceof InputError ? e : new InputError((e as Error).message);
  }
}
