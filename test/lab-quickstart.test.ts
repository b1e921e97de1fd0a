import { describe, expect, it } from 'vitest'
import { labQuickstart } from '../examples/lab-quickstart.js'

describe('the lab README example', () => {
  it('runs as documented', async () => {
    expect(await labQuickstart()).toEqual([
      'healthy: us-west-2a served 1',
      'blackholed: us-west-2b served 1',
    ])
  })
})
