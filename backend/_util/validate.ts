/**
 * Argument checks with error messages that name the bad argument.
 *
 * @module
 */

/** Describes a value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  if (typeof value === "string") return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (typeof value === "symbol") return "a symbol";
  return `${typeof value} ${String(value)}`;
}

/** Throws a `TypeError` unless `value` is a function. */
export function assertFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") {
    throw new TypeError(`The '${name}' argument must be a function, got ${describe(value)}`);
  }
}

/** Throws unless `value` is a delay: a number, not NaN, not negative (`Infinity` allowed). */
export function assertDelay(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`The '${name}' argument must be a number of milliseconds, got ${describe(value)}`);
  }
  if (!(value >= 0)) {
    throw new RangeError(`The '${name}' argument must be a non-negative number of milliseconds, got ${value}`);
  }
}

/** Throws unless `value` is a deadline: a number, not NaN (`±Infinity` allowed). */
export function assertDeadline(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`The '${name}' argument must be a number of milliseconds, got ${describe(value)}`);
  }
  if (Number.isNaN(value)) {
    throw new RangeError(`The '${name}' argument must not be NaN`);
  }
}
