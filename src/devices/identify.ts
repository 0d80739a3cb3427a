/**
 * The identification decision: rules and the model each propose, the most confident proposal sets the
 * device type (below `minConfidence` the type is `unknown`), rules also set vendor/model/OS, and every
 * proposal, taken or not, is kept as evidence. Pure: the callers (classify, identification after ingest)
 * apply it, never overwriting fields the user set by hand.
 */
import type { DeviceTypePrediction } from './model.js';
import type { DeviceProfile } from './profile.js';
import { bestByField, evaluateRules, type Rule, type RuleMatch } from './rules.js';

export const DEFAULT_MIN_CONFIDENCE = 0.5;

export interface Evidence {
  source: 'rule' | 'model' | 'oui' | 'user';
  /** Rule id or model id. */
  ref: string | null;
  text: string;
  confidence: number;
  used: boolean;
}

export interface Identification {
  deviceType: string;
  typeSource: 'rule' | 'model' | 'none';
  confidence: number;
  vendor: string | null;
  model: string | null;
  os: string | null;
  evidence: Evidence[];
}

export interface ModelProposal {
  modelId: string;
  version: number | null;
  prediction: DeviceTypePrediction;
}

export function decide(
  profile: DeviceProfile,
  opts: {
    userRules?: readonly Rule[];
    model?: ModelProposal | null;
    minConfidence?: number;
    rules?: RuleMatch[];
  } = {},
): Identification {
  const min = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const matches = opts.rules ?? evaluateRules(profile, opts.userRules ?? []);
  const best = bestByField(matches);
  const evidence: Evidence[] = [];
  const ruleType = best.device_type;
  const mp = opts.model ?? null;
  let deviceType = 'unknown';
  let typeSource: Identification['typeSource'] = 'none';
  let confidence = 0;
  const ruleConf = ruleType?.rule.confidence ?? -1;
  const modelConf = mp?.prediction.confidence ?? -1;
  if (ruleType && ruleConf >= min && ruleConf >= modelConf) {
    deviceType = ruleType.rule.set.device_type as string;
    typeSource = 'rule';
    confidence = ruleConf;
  } else if (mp && modelConf >= min) {
    deviceType = mp.prediction.deviceType;
    typeSource = 'model';
    confidence = modelConf;
  } else {
    confidence = Math.max(ruleConf, modelConf, 0);
  }
  const used = new Set<RuleMatch>(Object.values(best));
  for (const m of matches) {
    evidence.push({
      source: 'rule',
      ref: m.rule.id,
      text: m.explanation,
      confidence: m.rule.confidence,
      used: used.has(m) && (m !== ruleType || typeSource === 'rule' || Object.keys(m.rule.set).length > 1),
    });
  }
  if (mp) {
    const p = mp.prediction;
    const why = p.evidence.length ? p.evidence.join(' + ') : 'traffic features';
    const alt = p.runnerUp ? ` (runner-up ${p.runnerUp.deviceType} ${p.runnerUp.confidence.toFixed(2)})` : '';
    evidence.push({
      source: 'model',
      ref: mp.modelId,
      text: `model${mp.version !== null ? ` v${mp.version}` : ''}: ${why} → ${p.deviceType}, ${p.confidence.toFixed(2)}${alt}`,
      confidence: p.confidence,
      used: typeSource === 'model',
    });
  }
  if (deviceType === 'unknown' && confidence > 0) {
    evidence.push({
      source: typeSource === 'none' ? 'model' : typeSource,
      ref: null,
      text: `best proposal ${confidence.toFixed(2)} is below the ${min} threshold → unknown`,
      confidence,
      used: true,
    });
  }
  if (profile.ouiVendor) {
    evidence.push({
      source: 'oui',
      ref: null,
      text: `OUI ${profile.mac?.slice(0, 8) ?? ''} → ${profile.ouiVendor}`,
      confidence: 1,
      used: !best.vendor,
    });
  }
  return {
    deviceType,
    typeSource,
    confidence,
    vendor: best.vendor?.rule.set.vendor ?? profile.ouiVendor,
    model: best.model?.rule.set.model ?? null,
    os: best.os?.rule.set.os ?? null,
    evidence,
  };
}
