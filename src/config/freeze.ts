/**
 * Deep-freezes a parsed config so no consumer can change what every other consumer relies on
 * (fastify freezes its validated options the same way).
 */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
