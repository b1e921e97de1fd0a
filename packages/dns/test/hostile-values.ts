import { PrivateLinkError } from '@privatelink/dns'
import fc from 'fast-check'
import { expect } from 'vitest'

/** A Proxy revoked before use: every operation on it throws a TypeError, even Array.isArray. */
export function revokedProxy(target: object = {}): object {
  const { proxy, revoke } = Proxy.revocable(target, {})
  revoke()
  return proxy
}

/** An object whose every read throws (get, keys, descriptors). */
export function throwingProxy(): object {
  const fail = () => {
    throw new TypeError('hostile read')
  }
  return new Proxy({}, { get: fail, ownKeys: fail, getOwnPropertyDescriptor: fail, has: fail })
}

/** An object with one enumerable getter that throws. */
export function throwingGetter(key = 'value'): object {
  return Object.defineProperty({}, key, {
    enumerable: true,
    get() {
      throw new TypeError('hostile getter')
    },
  })
}

/**
 * Values no option should ever accept without a typed error: fast-check's anything (null
 * prototypes, boxed values, typed arrays, sparse arrays, bigint), symbols, functions, and the
 * three that throw when read. Each is a thunk made fresh in the property: fast-check itself
 * inspects the values it holds (`in` checks), which a revoked Proxy would fail.
 */
export const hostile: fc.Arbitrary<() => unknown> = fc.oneof(
  fc
    .anything({
      withBigInt: true,
      withBoxedValues: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withMap: true,
      withSet: true,
      withDate: true,
    })
    .map((value) => () => value),
  fc.constantFrom(
    () => Symbol('hostile'),
    () => revokedProxy(),
    () => revokedProxy(() => {}),
    () => revokedProxy([]),
    () => throwingProxy(),
    () => throwingGetter(),
  ),
  fc.func(fc.anything()).map((f) => () => f),
)

/** Options made of the given keys, each absent or hostile; sometimes the options value itself. */
export function hostileOptions(keys: readonly string[]): fc.Arbitrary<() => unknown> {
  const record = fc
    .record(Object.fromEntries(keys.map((key) => [key, hostile])), { requiredKeys: [] })
    .map(
      (fields) => () =>
        Object.fromEntries(Object.entries(fields).map(([key, make]) => [key, make?.()])),
    )
  return fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: hostile })
}

/** Whether the call may fail: only with a PrivateLinkError (any code), never a raw TypeError. */
export function expectTyped(run: () => unknown): unknown {
  try {
    return run()
  } catch (error) {
    if (!PrivateLinkError.isInstance(error)) {
      expect.fail(`threw a raw ${(error as Error)?.name}: ${(error as Error)?.message}`)
    }
    return error
  }
}

/** Same for a call that may return a promise: its rejection must be a PrivateLinkError too. */
export async function expectTypedAsync(run: () => unknown): Promise<unknown> {
  let result: unknown
  try {
    result = run()
  } catch (error) {
    if (!PrivateLinkError.isInstance(error))
      expect.fail(`threw a raw ${(error as Error)?.name}: ${(error as Error)?.message}`)
    return error
  }
  try {
    return await result
  } catch (error) {
    if (!PrivateLinkError.isInstance(error))
      expect.fail(`rejected with a raw ${(error as Error)?.name}: ${(error as Error)?.message}`)
    return error
  }
}
