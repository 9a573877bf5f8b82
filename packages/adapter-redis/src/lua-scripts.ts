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

import { ArgvLayout } from "./script-args.js";

/** A script as ioredis `defineCommand` takes it. */
export interface LuaScript {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * Publish a notice: `SPUBLISH` (sharded pub/sub, Redis 7) when `sharded` is "1", as on a
 * cluster, so it goes to the shard that owns the document only; else `PUBLISH`.
 */
const PUBLISH = `
local function publish(sharded, channel, message)
  if sharded == '1' then redis.call('SPUBLISH', channel, message) else redis.call('PUBLISH', channel, message) end
end
`;

/** ARGV of {@link CREATE_SCRIPT}. */
export const CREATE_ARGS = new ArgvLayout(["type", "snapshot", "nonce"] as const);

/**
 * Create a document at revision 0 unless it exists.
 * KEYS: doc, history, seqs, owners. ARGV: {@link CREATE_ARGS} (type, snapshot JSON, nonce).
 * Returns 1 if created, 0 if it existed.
 */
export const CREATE_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
local a = ${CREATE_ARGS.lua()}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- Leftovers of a document whose hash was deleted by hand would corrupt the new one.
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('HSET', KEYS[1], 'type', a.type, 'v', '0', 'snapv', '0', 'snapshot', a.snapshot, 'oldest', '1', 'nonce', a.nonce)
return 1
`,
};

/**
 * The arguments of one op of a commit: revision, history entry JSON
 * (`{"revision":..,"op":..,...}`), clientId, seq, snapshot JSON (when one is due), the revision
 * the op was based on (for the kept-history check), the submitter's principal.
 */
export const OP_ARGS = new ArgvLayout(["revision", "entry", "clientId", "seq", "snapshot", "base", "principal"] as const);

/**
 * The arguments every op of a commit script shares: the document's channel, the notice prefix
 * (`{"docId":"..",`), the history limit (-1: keep all), the most clients in the seq table (-1:
 * keep all), the caller's id (one per adapter), how many milliseconds to hold the next revision
 * for the caller if this commit conflicts ("0": do not), the most a seq may jump above the
 * client's last committed one, the epoch (nonce) the caller read the document in, and `sharded`
 * ("1": publish with SPUBLISH).
 */
export const SHARED_COMMIT_ARGS = new ArgvLayout([
  "channel",
  "noticePrefix",
  "historyLimit",
  "maxClients",
  "callerId",
  "holdMs",
  "maxSeqJump",
  "epoch",
  "sharded",
] as const);

/**
 * The commit of one op (see {@link COMMIT_SCRIPT}) as a Lua function of the op's arguments
 * (`o`, named as {@link OP_ARGS}) and the shared ones (`s`, named as {@link SHARED_COMMIT_ARGS}).
 */
const COMMIT_ONE = `
${PUBLISH}
local function commitOne(o, s)
  local revisionArg, entry, clientId, seq, snapshot, base, principal, epoch = o.revision, o.entry, o.clientId, o.seq, o.snapshot, o.base, o.principal, s.epoch
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
      if s.maxSeqJump ~= '' and tonumber(seq) - tonumber(lastSeq) > tonumber(s.maxSeqJump) then return {'seq_too_far', lastSeq} end
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
    if tonumber(string.sub(doc[5], 1, a - 1)) == current + 1 and string.sub(doc[5], a + 1, b - 1) ~= s.callerId and untilMs > millis() then
      heldBy = untilMs
    end
  end

  if current ~= revision - 1 then
    if current >= revision and heldBy == nil and tonumber(s.holdMs) > 0 then
      redis.call('HSET', KEYS[1], 'turn', tostring(current + 1) .. ':' .. s.callerId .. ':' .. tostring(millis() + tonumber(s.holdMs)))
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
    local maxClients = tonumber(s.maxClients)
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

  local historyLimit = tonumber(s.historyLimit)
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

  publish(s.sharded, s.channel, s.noticePrefix .. string.sub(entry, 2))
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
 * ARGV: {@link SHARED_COMMIT_ARGS}, then {@link OP_ARGS}.
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
return commitOne(${OP_ARGS.lua(String(SHARED_COMMIT_ARGS.size + 1))}, ${SHARED_COMMIT_ARGS.lua()})
`,
};

/**
 * Commit several ops to one document atomically, in order, as consecutive revisions: each is
 * committed exactly as {@link COMMIT_SCRIPT} would commit it alone (same checks in the same
 * order, same notice published, so publication order is revision order), and the script stops
 * at the first that is not committed; nothing after it is tried.
 *
 * KEYS: doc, history, seqs, owners. ARGV: {@link SHARED_COMMIT_ARGS} (its epoch is the one every
 * op expects), then {@link OP_ARGS} of each op in turn.
 *
 * Returns the list of the replies COMMIT_SCRIPT would give, one per op tried: every one but the
 * last is `committed`; the last is the reason the script stopped when it is not.
 */
export const COMMIT_BATCH_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
${COMMIT_ONE}
local s = ${SHARED_COMMIT_ARGS.lua()}
local out = {}
for a = ${SHARED_COMMIT_ARGS.size + 1}, #ARGV - ${OP_ARGS.size - 1}, ${OP_ARGS.size} do
  local reply = commitOne(${OP_ARGS.lua("a")}, s)
  out[#out + 1] = reply
  if reply[1] ~= 'committed' then return out end
end
return out
`,
};

/** ARGV of {@link LOAD_SCRIPT}: the revision of the caller's cached snapshot (-1: none) and its nonce. */
export const LOAD_ARGS = new ArgvLayout(["cachedRevision", "cachedNonce"] as const);

/**
 * Read what is needed to rebuild the current document, in one consistent view.
 * KEYS: doc, history. ARGV: {@link LOAD_ARGS}.
 *
 * Returns `{'missing'}`; `{'cached', type, v, nonce, ops}` when the cached snapshot is still
 * good and the ops after it are kept (`ops`: history entries after the cached revision); else
 * `{'snapshot', type, v, nonce, snapv, ops, snapshot}` (`ops`: the entries after `snapv`).
 */
export const LOAD_SCRIPT: LuaScript = {
  numberOfKeys: 2,
  lua: `
local a = ${LOAD_ARGS.lua()}
local doc = redis.call('HMGET', KEYS[1], 'type', 'v', 'snapv', 'oldest', 'nonce')
if not doc[1] then return {'missing'} end
local v, snapv, oldest = tonumber(doc[2]), tonumber(doc[3]), tonumber(doc[4])
local cached = tonumber(a.cachedRevision)
if doc[5] == a.cachedNonce and cached >= snapv and cached <= v and cached + 1 >= oldest then
  local ops = {}
  if cached < v then ops = redis.call('LRANGE', KEYS[2], cached + 1 - oldest, v - oldest) end
  return {'cached', doc[1], doc[2], doc[5], ops}
end
local ops = {}
if snapv < v then ops = redis.call('LRANGE', KEYS[2], snapv + 1 - oldest, v - oldest) end
return {'snapshot', doc[1], doc[2], doc[5], doc[3], ops, redis.call('HGET', KEYS[1], 'snapshot')}
`,
};

/** ARGV of {@link RANGE_SCRIPT}: the first revision and the last (absent: the current one). */
export const RANGE_ARGS = new ArgvLayout(["from", "to"] as const);

/**
 * Read committed ops `from .. to` (inclusive) in one consistent view.
 * KEYS: doc, history. ARGV: {@link RANGE_ARGS}.
 * Returns `{'missing'}`, `{'trimmed', oldest}` or `{'ok', entries}`.
 */
export const RANGE_SCRIPT: LuaScript = {
  numberOfKeys: 2,
  lua: `
local a = ${RANGE_ARGS.lua()}
local doc = redis.call('HMGET', KEYS[1], 'v', 'oldest')
if not doc[1] then return {'missing'} end
local current, oldest = tonumber(doc[1]), tonumber(doc[2])
local from = tonumber(a.from)
if from < 1 then from = 1 end
local to = current
if a.to ~= '' and tonumber(a.to) < current then to = tonumber(a.to) end
if to < from then return {'ok', {}} end
if from < oldest then return {'trimmed', doc[2]} end
return {'ok', redis.call('LRANGE', KEYS[2], from - oldest, to - oldest)}
`,
};

/**
 * ARGV of {@link RESTORE_SCRIPT}: type, snapshot JSON, revision, the new nonce, the copy's epoch,
 * the expected epoch (absent: only a missing document is restored), channel, notice JSON and
 * `sharded` ("1": publish with SPUBLISH).
 */
export const RESTORE_ARGS = new ArgvLayout([
  "type",
  "snapshot",
  "revision",
  "nonce",
  "fromEpoch",
  "ifEpoch",
  "channel",
  "notice",
  "sharded",
] as const);

/**
 * Recreate a lost document from a client's copy, atomically, when it does not exist, or when it
 * exists in the expected epoch (nonce) at a revision below the copy's. The document becomes the
 * copy at its revision, with a new nonce, no history (the oldest kept revision is the next one),
 * the copy's revision and epoch recorded (`rrev`, `rfrom`), and the given seq-table entries
 * merged in (the higher seq wins; the owners of the clients it already knew stay bound); then
 * the restore notice is published.
 *
 * KEYS: doc, history, seqs, owners. ARGV: {@link RESTORE_ARGS}, then pairs of seq-table key and seq.
 * Returns 1 when restored, 0 when the condition did not hold (nothing written).
 */
export const RESTORE_SCRIPT: LuaScript = {
  numberOfKeys: 4,
  lua: `
${PUBLISH}
local a = ${RESTORE_ARGS.lua()}
local doc = redis.call('HMGET', KEYS[1], 'v', 'nonce')
if doc[1] then
  if a.ifEpoch == '' or doc[2] ~= a.ifEpoch or tonumber(doc[1]) >= tonumber(a.revision) then return 0 end
else
  -- Leftovers of a document whose hash is gone would corrupt the restored one.
  redis.call('DEL', KEYS[3], KEYS[4])
end
redis.call('DEL', KEYS[1], KEYS[2])
local rev = a.revision
redis.call('HSET', KEYS[1], 'type', a.type, 'v', rev, 'snapv', rev, 'snapshot', a.snapshot, 'oldest', tostring(tonumber(rev) + 1), 'nonce', a.nonce, 'rrev', rev)
if a.fromEpoch ~= '' then redis.call('HSET', KEYS[1], 'rfrom', a.fromEpoch) end
for i = ${RESTORE_ARGS.size + 1}, #ARGV - 1, 2 do
  local last = redis.call('HGET', KEYS[3], ARGV[i])
  local keep = false
  if last then
    local sep = string.find(last, ':', 1, true)
    keep = tonumber(string.sub(last, 1, sep - 1)) >= tonumber(ARGV[i + 1])
  end
  if not keep then redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1] .. ':' .. rev) end
end
publish(a.sharded, a.channel, a.notice)
return 1
`,
};
