// The decision for one file operation of a tool (the host's `fs` import). The path is
// normalised first (see `paths.ts`); patterns are globs (see `glob.ts`). Order: path
// valid → blocked → allowed → size.
//
// Size: a write must state its size, since an unknown size cannot be checked; a read is
// checked when the host knows the file's size and passes it.
import type { EffectivePolicy, FileOp, FileRequest } from './types';
import { ALLOW, deny, type Decision } from './decision';
import { findPathPattern } from './glob';
import { normalisePath, type NormalPath } from './paths';

const MIB = 1024 * 1024;

// Listing or inspecting a granted directory reveals only what is inside it.
const DIRECTORY_OPS: ReadonlySet<FileOp> = new Set<FileOp>(['list', 'stat']);

export function decideFile(policy: EffectivePolicy, req: FileRequest): Decision {
  const normal = normalisePath(req.path);
  if (!normal.ok) {
    const { kind, reason } = normal.problem;
    return deny(kind === 'escape' ? 'file.path-escape' : 'file.path-invalid', `Path '${req.path}' cannot be used: ${reason}. Give a path inside an allowed folder.`, {
      observed: req.path,
    });
  }
  return checkPatterns(policy, normal.path, req.op) ?? checkSize(policy, req) ?? ALLOW;
}

function checkPatterns(policy: EffectivePolicy, path: NormalPath, op: FileOp): Decision | null {
  const { allowedPatterns, blockedPatterns } = policy.files;
  const blockedBy = findPathPattern(blockedPatterns, path, true);
  if (blockedBy !== undefined) {
    return deny('file.blocked', `Path '${path.path}' is blocked by '${blockedBy}' (files.blockedPatterns); an admin must grant it to unblock it.`, {
      limit: [...blockedPatterns],
      observed: path.path,
    });
  }
  if (findPathPattern(allowedPatterns, path, DIRECTORY_OPS.has(op)) === undefined) {
    return deny('file.pattern', `Path '${path.path}' (${op}) matches none of this agent's file patterns (files.allowedPatterns): ${allowedPatterns.join(', ') || 'none'}.`, {
      limit: [...allowedPatterns],
      observed: path.path,
    });
  }
  return null;
}

function checkSize(policy: EffectivePolicy, req: FileRequest): Decision | null {
  const checked = req.op === 'write' || (req.op === 'read' && req.sizeBytes !== undefined);
  if (!checked) return null;
  const maxMb = policy.files.maxSizeMb;
  const size = req.sizeBytes;
  if (size !== undefined && size >= 0 && size <= maxMb * MIB) return null;
  const reason =
    size === undefined
      ? `A write must state its size so it can be checked against ${maxMb} MiB (files.maxSizeMb).`
      : `The file of ${size} bytes is larger than ${maxMb} MiB (files.maxSizeMb); write or read less.`;
  return deny('file.size', reason, {
    limit: maxMb,
    observed: size === undefined ? 'unknown' : Math.ceil((size / MIB) * 100) / 100,
  });
}
