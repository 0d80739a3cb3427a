/** Paths used by tests: the shared data set lives next to the repository and is never copied into it. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const sharedData = path.resolve(repoRoot, '..', 'shared', 'data');
export const nvdDir = path.join(sharedData, 'vuln', 'nvd');
export const nvdSubset = path.join(nvdDir, 'nvd-iot-subset.api2.json');
export const fkieDir = path.join(nvdDir, 'fkie-api2');
export const kevCatalog = path.join(sharedData, 'vuln', 'kev', 'known_exploited_vulnerabilities.json');
export const fixturesDir = path.dirname(fileURLToPath(import.meta.url));

export const hasNvd = existsSync(nvdSubset) && existsSync(fkieDir);
export const hasKev = existsSync(kevCatalog);
