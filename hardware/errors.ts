/** The one error type of the `hardware/` package: its message is a single line meant for the user. */
export class HardwareError extends Error {
  override readonly name = 'HardwareError';
  constructor(message: string) {
    super(message);
  }
}
