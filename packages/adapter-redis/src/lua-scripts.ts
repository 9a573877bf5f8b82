/**
 * The Lua scripts of the Redis adapter. Each runs atomically on the server, by EVALSHA (ioredis
 * `defineCommand` sends EVAL only after a NOSCRIPT, for example after a Redis restart), and
 * takes its data only in KEYS and ARGV, so one script serves every document and the keys it
 * touches are declared (Redis Cluster routes by them: they share the document's hash tag).
 *
 * Every reply value is a string (or a list of strings): Lua numbers would be truncated or
 * printed in exponent form by Redis, and revisions and seqs are passed through as the caller
 * wrote them.
 *
 * Layout of a document (see `DocumentKeys`): the hash `doc` (`type`, `v`, `snapv`, `snapshot`,
 * `oldest`, `nonce`, and after a restore `rrev` and maybe `rfrom`), the list `history` (entry
 * `i` is the op of revision `oldest + i`), the hash `seqs` (clientId -> `"seq:revision"`) and
 * the hash `owners` (clientId -> the principal the client is bound to; an entry only for
 * clients in `seqs`). The `nonce` is set when the document is created (or restored) and never
 * changes otherwise: it is the document's epoch.
 */

/** A script as ioredis `defineCommand` takes it. */
export interface LuaScript {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * Create a document at revision 0 unless it exists.
 * KEYS: doc, history, seqs, owners. ARGV: type, snapshot JSON, nonce. Returns 1 if created, 0 if it existed.
 */
export const CREATE_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- Leftovers of a document whose hash was deleted by hand would corrupt the new one.
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'type', ARGV[1], 'v', '0', 'snapv', '0', 'snapshot', ARGV[2], 'oldest', '1', 'nonce', ARGV[3])
return 1
`,
};

/**
 * The commit of one op (see {@link COMMIT_SCRIPT}) as a Lua function of the per-op arguments
 * (revision, history entry JSON, clientId or "", seq or "", snapshot JSON or "", base or "",
 * principal or "", expected epoch or ""); the shared ones are read from ARGV 6-9, 11, 12 and 14
 * as COMMIT_SCRIPT numbers them.
 */
const COMMIT_ONE = `
local function commitOne(revisionArg, entry, clientId, seq, snapshot, base, principal, epoch)
  local doc = redis.call('HMGET', KEYS[1], 'v', 'snapv', 'oldest', 'nonce', 'turn')
  if not doc[1] then return {'missing'} end
  if epoch ~= '' and doc[4] ~= epoch then return {'replaced', doc[4]} end
  local revision = tonumber(revisionArg)
  local tracked = clientId ~= '' and seq ~= ''
  local owner = false

  if tracked then
    -- The principal first: another principal's copy of a committed op must not even learn
    -- that it is a duplicate.
    owner = redis.call('HGET', KEYS[4], clientId)
    if owner and owner ~= principal then return {'forbidden'} end
    local last = redis.call('HGET', KEYS[3], clientId)
    if last then
      local sep = string.find(last, ':', 1, true)
      local lastSeq = string.sub(last, 1, sep - 1)
      if tonumber(seq) <= tonumber(lastSeq) then
        -- Only the last seq's revision is stored; an older duplicate's revision is unknown.
        local at = '-1'
        if tonumber(seq) == tonumber(lastSeq) then at = string.sub(last, sep + 1) end
        return {'duplicate', lastSeq, at}
      end
      if ARGV[14] ~= '' and tonumber(seq) - tonumber(lastSeq) > tonumber(ARGV[14]) then return {'seq_too_far', lastSeq} end
    end
  end

  if base ~= '' and tonumber(base) + 1 < tonumber(doc[3]) then return {'trimmed', doc[3]} end

  local current = tonumber(doc[1])
  local now = nil
  local function millis()
    if not now then
      local t = redis.call('TIME')
      now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    end
    return now
  end
  -- Another caller's hold on revision current + 1 that has not run out.
  local heldBy = nil
  if doc[5] then
    local a = string.find(doc[5], ':', 1, true)
    local b = string.find(doc[5], ':', a + 1, true)
    local untilMs = tonumber(string.sub(doc[5], b + 1))
    if tonumber(string.sub(doc[5], 1, a - 1)) == current + 1 and string.sub(doc[5], a + 1, b - 1) ~= ARGV[11] and untilMs > millis() then
      heldBy = untilMs
    end
  end

  if current ~= revision - 1 then
    if current >= revision and heldBy == nil and tonumber(ARGV[12]) > 0 then
      redis.call('HSET', KEYS[1], 'turn', tostring(current + 1) .. ':' .. ARGV[11] .. ':' .. tostring(millis() + tonumber(ARGV[12])))
    end
    local oldest = tonumber(doc[3])
    if current < revision or revision < oldest then return {'conflict', doc[1], false} end
    return {'conflict', doc[1], redis.call('LRANGE', KEYS[2], revision - oldest, current - oldest)}
  end
  if heldBy ~= nil then return {'reserved', tostring(heldBy - millis())} end
  -- The next revision is taken: whoever held it (or a hold that ran out) is done.
  if doc[5] then redis.call('HDEL', KEYS[1], 'turn') end

  redis.call('RPUSH', KEYS[2], entry)
  local snapv = tonumber(doc[2])
  if snapshot ~= '' then
    redis.call('HSET', KEYS[1], 'v', revisionArg, 'snapshot', snapshot, 'snapv', revisionArg)
    snapv = revision
  else
    redis.call('HSET', KEYS[1], 'v', revisionArg)
  end

  if tracked then
    redis.call('HSET', KEYS[3], clientId, seq .. ':' .. revisionArg)
    if principal ~= '' and not owner then redis.call('HSET', KEYS[4], clientId, principal) end
    local maxClients = tonumber(ARGV[9])
    if maxClients >= 0 and redis.call('HLEN', KEYS[3]) > maxClients then
      -- Forget the clients that committed least recently, down to 90% of the limit, so this
      -- O(n log n) pass runs once per tenth of the limit rather than on every commit.
      local all = redis.call('HGETALL', KEYS[3])
      local entries = {}
      for i = 1, #all, 2 do
        local value = all[i + 1]
        local sep = string.find(value, ':', 1, true)
        entries[#entries + 1] = { all[i], tonumber(string.sub(value, sep + 1)) }
      end
      table.sort(entries, function(a, b) return a[2] < b[2] end)
      local keep = math.max(1, math.floor(maxClients * 0.9))
      for i = 1, #entries - keep do redis.call('HDEL', KEYS[3], entries[i][1]) redis.call('HDEL', KEYS[4], entries[i][1]) end
    end
  end

  local historyLimit = tonumber(ARGV[8])
  if historyLimit >= 0 then
    local oldest = tonumber(doc[3])
    local keepFrom = revision - historyLimit + 1
    -- Ops after the stored snapshot are needed to load the document: never trim them.
    if keepFrom > snapv + 1 then keepFrom = snapv + 1 end
    if keepFrom > oldest then
      redis.call('LTRIM', KEYS[2], keepFrom - oldest, -1)
      redis.call('HSET', KEYS[1], 'oldest', tostring(keepFrom))
    end
  end

  redis.call('PUBLISH', ARGV[6], ARGV[7] .. string.sub(entry, 2))
  return {'committed', revisionArg, doc[4]}
end
`;

/**
 * Commit one op atomically: existence, epoch, the client's principal, duplicate `(clientId, seq)`, how
 * far the seq jumps, compare-and-set on the revision, append to history, record the seq (and the
 * principal, on the client's first commit with one), store the snapshot when one is passed,
 * trim history and the seq table, and PUBLISH the commit notice, so publication order is commit
 * order.
 *
 * KEYS: doc, history, seqs, owners.
 * ARGV: 1 revision, 2 history entry JSON (`{"revision":..,"op":..,...}`), 3 clientId or "",
 * 4 seq or "", 5 snapshot JSON or "" (not due), 6 channel, 7 notice prefix (`{"docId":"..",`),
 * 8 history limit (-1: keep all), 9 max clients in the seq table (-1: keep all), 10 the
 * revision the op was based on or "" (no kept-history check), 11 the caller's id (one per
 * adapter), 12 how many milliseconds to hold the next revision for the caller if this commit
 * conflicts ("0": do not), 13 the submitter's principal or "", 14 the most a seq may jump above
 * the client's last committed one or "" (no limit), 15 the epoch (nonce) the caller read the
 * document in, or "" (no check).
 *
 * Checks in this order: existence, epoch, principal (a client bound to another principal),
 * duplicate, seq jump, kept history (the ops after the base revision
 * must still be kept: a join may already have been answered with a snapshot because they were
 * not), the turn, revision.
 *
 * The turn: an instance that keeps losing the race for a hot document (another commits back
 * to back, and gets its reply, hence its next commit, in first) asks for the next revision on
 * a conflict. The field `turn` (`"revision:callerId:untilMs"`, Redis's clock) then holds it for
 * that caller; another caller's commit of that revision answers `reserved` and is sent again
 * (by the adapter) until the holder committed or the hold ran out. Only commits that would
 * otherwise succeed wait, so a turn never lets anything commit that the revision check alone
 * would refuse.
 *
 * Returns `{'missing'}`, `{'replaced', nonce}`, `{'forbidden'}`,
 * `{'duplicate', lastSeq, revisionOfThatSeq or '-1'}`, `{'seq_too_far', lastSeq}`,
 * `{'trimmed', oldest}`, `{'reserved', msLeft}`, `{'conflict', current, entries}` or
 * `{'committed', revision, nonce}`. A conflict's `entries` are the history entries of
 * revisions `revision .. current`, so the caller can transform and retry in one round trip;
 * `false` (nil in the reply) when the document is not ahead or they are no longer all kept.
 *
 * A second run of the same commit (ioredis re-sends a command whose reply was lost in a
 * reconnect) finds its own `(clientId, seq)` recorded and answers `duplicate` with the revision
 * of the first run.
 */
export const COMMIT_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
${COMMIT_ONE}
return commitOne(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[10], ARGV[13], ARGV[15])
`,
};

/**
 * Commit several ops to one document atomically, in order, as consecutive revisions: each is
 * committed exactly as {@link COMMIT_SCRIPT} would commit it alone (same checks in the same
 * order, same notice published, so publication order is revision order), and the script stops
 * at the first that is not committed; nothing after it is tried.
 *
 * KEYS: doc, history, seqs, owners. ARGV: 1 the epoch every op expects, or ""; 2-5, 10, 13 and
 * 15 unused (""); 6-9, 11, 12 and 14 as for COMMIT_SCRIPT; then seven per op from 16 on:
 * revision, history entry JSON, clientId or "", seq or "", snapshot JSON or "", base or "",
 * principal or "".
 *
 * Returns the list of the replies COMMIT_SCRIPT would give, one per op tried: every one but the
 * last is `committed`; the last is the reason the script stopped when it is not.
 */
export const COMMIT_BATCH_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
${COMMIT_ONE}
local out = {}
for a = 16, #ARGV - 6, 7 do
  local reply = commitOne(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[1])
  out[#out + 1] = reply
  if reply[1] ~= 'committed' then return out end
end
return out
`,
};

/**
 * Read what is needed to rebuild the current document, in one consistent view.
 * KEYS: doc, history. ARGV: 1 revision of the caller's cached snapshot (-1: none), 2 its nonce.
 *
 * Returns `{'missing'}`; `{'cached', type, v, nonce, ops}` when the cached snapshot is still
 * good and the ops after it are kept (`ops`: history entries after the cached revision); else
 * `{'snapshot', type, v, nonce, snapv, ops, snapshot}` (`ops`: the entries after `snapv`).
 */
export const LOAD_SCRIPT: LuaScript = {
  numberOfKeys: 2,
  lua: `
local doc = redis.call('HMGET', KEYS[1], 'type', 'v', 'snapv', 'oldest', 'nonce')
if not doc[1] then return {'missing'} end
local v, snapv, oldest = tonumber(doc[2]), tonumber(doc[3]), tonumber(doc[4])
local cached = tonumber(ARGV[1])
if doc[5] == ARGV[2] and cached >= snapv and cached <= v and cached + 1 >= oldest then
  local ops = {}
  if cached < v then ops = redis.call('LRANGE', KEYS[2], cached + 1 - oldest, v - oldest) end
  return {'cached', doc[1], doc[2], doc[5], ops}
end
local ops = {}
if snapv < v then ops = redis.call('LRANGE', KEYS[2], snapv + 1 - oldest, v - oldest) end
return {'snapshot', doc[1], doc[2], doc[5], doc[3], ops, redis.call('HGET', KEYS[1], 'snapshot')}
`,
};

/**
 * Read committed ops `from .. to` (inclusive) in one consistent view.
 * KEYS: doc, history. ARGV: 1 from, 2 to or "" (the current revision).
 * Returns `{'missing'}`, `{'trimmed', oldest}` or `{'ok', entries}`.
 */
export const RANGE_SCRIPT: LuaScript = {
  numberOfKeys: 2,
  lua: `
local doc = redis.call('HMGET', KEYS[1], 'v', 'oldest')
if not doc[1] then return {'missing'} end
local current, oldest = tonumber(doc[1]), tonumber(doc[2])
local from = tonumber(ARGV[1])
if from < 1 then from = 1 end
local to = current
if ARGV[2] ~= '' and tonumber(ARGV[2]) < current then to = tonumber(ARGV[2]) end
if to < from then return {'ok', {}} end
if from < oldest then return {'trimmed', doc[2]} end
return {'ok', redis.call('LRANGE', KEYS[2], from - oldest, to - oldest)}
`,
};

/**
 * Recreate a lost document from a client's copy, atomically, when it does not exist, or when it
 * exists in the expected epoch (nonce) at a revision below the copy's. The document becomes the
 * copy at its revision, with a new nonce, no history (the oldest kept revision is the next one),
 * the copy's revision and epoch recorded (`rrev`, `rfrom`), and the given seq-table entries
 * merged in (the higher seq wins; the owners of the clients it already knew stay bound); then
 * the restore notice is published.
 *
 * KEYS: doc, history, seqs, owners. ARGV: 1 type, 2 snapshot JSON, 3 revision, 4 new nonce, 5 the
 * copy's epoch or "", 6 the expected epoch or "" (then only a missing document is restored),
 * 7 channel, 8 notice JSON, 9 unused; then pairs of seq-table key and seq from 10 on.
 * Returns 1 when restored, 0 when the condition did not hold (nothing written).
 */
export const RESTORE_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
local doc = redis.call('HMGET', KEYS[1], 'v', 'nonce')
if doc[1] then
  if ARGV[6] == '' or doc[2] ~= ARGV[6] or tonumber(doc[1]) >= tonumber(ARGV[3]) then return 0 end
else
  -- Leftovers of a document whose hash is gone would corrupt the restored one.
  redis.call('DEL', KEYS[3], KEYS[4])
end
redis.call('DEL', KEYS[1], KEYS[2])
local rev = ARGV[3]
redis.call('HSET', KEYS[1], 'type', ARGV[1], 'v', rev, 'snapv', rev, 'snapshot', ARGV[2], 'oldest', tostring(tonumber(rev) + 1), 'nonce', ARGV[4], 'rrev', rev)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'rfrom', ARGV[5]) end
for i = 10, #ARGV - 1, 2 do
  local last = redis.call('HGET', KEYS[3], ARGV[i])
  local keep = false
  if last then
    local sep = string.find(last, ':', 1, true)
    keep = tonumber(string.sub(last, 1, sep - 1)) >= tonumber(ARGV[i + 1])
  end
  if not keep then redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1] .. ':' .. rev) end
end
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 1
`,
};
