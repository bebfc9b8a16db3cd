/**
 * Errors a plugin throws to tell the engine how to treat a failed call.
 * @module
 */

/**
 * A stage's configuration (its `with:` in the pipeline file) is wrong: a rule that does not
 * compile, thresholds out of order, an option that contradicts another. Throw it from `setup`
 * (or a call) for what only the plugin can check: the engine then fails the run at once with
 * this message and says to fix the pipeline file and start a new run (a run keeps the pipeline
 * version it started with, so retrying or replaying it cannot help), without retries and without
 * naming the plugin's source line. Say which option is wrong and what to write instead. Keep
 * plain errors for what may pass (a database that cannot be reached yet): those are retried.
 */
export class ConfigError extends Error {
  /** Always false: the same configuration gives the same error. */
  readonly retryable = false;
  /** Marks the error as the stage's configuration's fault (kept across the sandbox). */
  readonly configError = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

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
