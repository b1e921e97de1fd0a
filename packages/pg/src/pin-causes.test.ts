import { describe, expect, it } from 'vitest'
import { pinCauses, statementsOf } from './pin-causes.js'

describe('pinCauses', () => {
  it.each([
    ['SELECT 1', []],
    ['SET search_path = app', ['set']],
    ['set  session statement_timeout = 5', ['set']],
    ['RESET ALL', ['set']],
    ['SET LOCAL statement_timeout = 5', []],
    ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', []],
    ["SELECT set_config('app.user', '42', false)", ['set']],
    ["SELECT set_config('app.user', '42', true)", []],
    ['PREPARE q AS SELECT 1', ['prepared-statement']],
    ["PREPARE TRANSACTION 'x'", []],
    ['CREATE TEMP TABLE t (id int)', ['temporary-object']],
    ['create temporary view v as select 1', ['temporary-object']],
    ['SELECT 1 INTO TEMP t', ['temporary-object']],
    ['DECLARE c CURSOR FOR SELECT 1', ['cursor']],
    ['DISCARD ALL', ['discard']],
    ['LISTEN jobs', ['listen']],
    ["LOAD 'auto_explain'", ['load']],
    ["SELECT nextval('s')", ['sequence-function']],
    ['SELECT pg_advisory_lock(1)', ['advisory-lock']],
    ['SELECT pg_try_advisory_lock_shared(1)', ['advisory-lock']],
    ['SELECT pg_advisory_xact_lock(1)', []],
    ['BEGIN; SET LOCAL work_mem = 1024; COMMIT', []],
    ['BEGIN; SET work_mem = 1024; COMMIT', ['set']],
  ] as const)('%s', (text, expected) => {
    expect(pinCauses(text, false)).toEqual(expected)
  })

  it('reads past literals, quoted identifiers and comments', () => {
    expect(pinCauses("SELECT 'SET x = 1; LISTEN y'", false)).toEqual([])
    expect(pinCauses('SELECT $$ LISTEN a $$, $tag$ SET b $tag$', false)).toEqual([])
    expect(pinCauses("SELECT E'it\\'s; LISTEN a'", false)).toEqual([])
    expect(pinCauses('SELECT "listen" FROM t -- ; LISTEN a', false)).toEqual([])
    expect(pinCauses('/* a /* nested */ ; LISTEN b */ SELECT 1', false)).toEqual([])
    expect(pinCauses('/* note */ LISTEN b', false)).toEqual(['listen'])
    expect(statementsOf("SELECT 'a;b'; SELECT 2")).toEqual(["select ''", 'select 2'])
  })

  it('a named statement, and a statement over 16 KB (counted first: the proxy reads no further)', () => {
    expect(pinCauses('SELECT $1', true)).toEqual(['named-statement'])
    const large = `SET a = '${'x'.repeat(16_400)}'`
    expect(pinCauses(large, false)).toEqual(['large-statement', 'set'])
    expect(pinCauses(`SELECT '${'é'.repeat(8_200)}'`, false)).toEqual(['large-statement'])
    expect(pinCauses(`SELECT '${'x'.repeat(16_000)}'`, false)).toEqual([])
  })
})
