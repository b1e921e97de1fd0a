import { describe, expect, it } from 'vitest'
import { retiredByMove, retiredByReadmission } from './retire-rules.js'
import type { ZoneKey } from './zone-key.js'

const keys = (...names: string[]) => names as ZoneKey[]

describe('retire rules', () => {
  it('a readmitted zone retires the zones ranked after it and the unranked (ejected) ones', () => {
    const all = keys('a', 'b', 'c', 'd')
    expect(retiredByReadmission('b' as ZoneKey, keys('a', 'b', 'c'), all)).toEqual(['c', 'd'])
    // The own zone back first: everything else leaves.
    expect(retiredByReadmission('a' as ZoneKey, keys('a', 'b', 'c', 'd'), all)).toEqual([
      'b',
      'c',
      'd',
    ])
  })

  it('a readmitted zone not in the ranking retires nothing', () => {
    expect(retiredByReadmission('d' as ZoneKey, keys('a', 'b'), keys('a', 'b', 'd'))).toEqual([])
  })

  it('a move between targets retires every zone outside the active one', () => {
    expect(retiredByMove(keys('x/1', 'x/2'), keys('1', '2', 'x/1', 'x/2'))).toEqual(['1', '2'])
  })
})
