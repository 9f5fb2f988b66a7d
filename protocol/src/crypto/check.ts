import { ProtocolError } from '../errors';

/** Throws InvalidArgument naming `name` unless `value` is a Uint8Array of exactly `length` bytes. */
export function checkBytes(name: string, value: unknown, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ProtocolError('InvalidArgument', `${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new ProtocolError(
      'InvalidArgument',
      `${name} must be ${length} bytes, got ${value.length}`,
    );
  }
  return value;
}

/** Throws InvalidArgument naming `name` unless `value` is an integer in [min, max]. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(
      'InvalidArgument',
      `${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return value;
}
