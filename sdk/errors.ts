/**
 * Errors a plugin throws to tell the engine how to treat a failed call.
 * @module
 */

/**
 * A problem with the run's input or the stage's settings that another attempt cannot fix: no
 * input file, a file that is not what the stage reads, a missing column. Throw it instead of a
 * plain `Error` and the chunk goes to the dead-letter list at once, with this message, instead
 * of being retried with backoff first. Say what is wrong, where, and what to do.
 */
export class InputError extends Error {
  /** Always false: retrying the same input gives the same error. */
  readonly retryable = false;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}
