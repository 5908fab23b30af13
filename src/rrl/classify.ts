// Which rate-limiting bucket a finished response falls in: its kind (BIND's and NSD's categories) and
// the name that kind is keyed by. The handler calls it once per response it plans (HandlerOptions
// .bucketOf); a response from the cache carries the bucket it was kept with.
import type { AnswerPlan } from '../answer/plan.js';
import { ResponseKind, type ResponseInfo } from '../wire/handler-types.js';
import { hashKey } from '../zone/name-table.js';

/** The rate-limiting bucket of a planned response: its kind, and the name that kind is keyed by. */
export function bucketOf(plan: AnswerPlan, qkey: string, qtype: number, info: ResponseInfo): void {
  switch (plan.outcome) {
    case 'answer':
      if (plan.wildcard !== null) {
        info.kind = ResponseKind.Wildcard;
        info.nameHash = hashKey(plan.wildcard);
      } else {
        info.kind = ResponseKind.Answer;
        info.nameHash = Math.imul(hashKey(qkey) ^ qtype, 0x01000193) >>> 0;
      }
      return;
    case 'nodata':
    case 'nxdomain':
      info.kind = plan.outcome === 'nodata' ? ResponseKind.Nodata : ResponseKind.Nxdomain;
      info.nameHash = plan.zone === null ? 0 : hashKey(plan.zone.origin);
      return;
    case 'referral':
      info.kind = ResponseKind.Referral;
      info.nameHash = hashKey(plan.delegation ?? '');
      return;
    default:
      info.kind = ResponseKind.Error;
      info.nameHash = 0;
  }
}
