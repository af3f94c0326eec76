// Where Debian's chromium-common put SwiftShader's Vulkan driver. Used by the tests and bench scripts
// to get a software adapter on machines without a GPU (see docs/WEBGPU.md); never by the library
// itself, which uses whatever driver the system has.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const ICD = 'vk_swiftshader_icd.json';

/** The path of vk_swiftshader_icd.json as `dpkg -L chromium-common` lists it, or undefined. */
export function findSwiftShaderIcd(): string | undefined {
  let listing = '';
  try {
    listing = execFileSync('dpkg', ['-L', 'chromium-common'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined; // no dpkg, or the package is not installed
  }
  return listing.split('\n').find((p) => p.endsWith(`/${ICD}`) && existsSync(p));
}

/** Points the Vulkan loader at SwiftShader unless the caller chose a driver already. Returns the path used. */
export function useSwiftShaderIfNoDriverChosen(): string | undefined {
  if (process.env.VK_ICD_FILENAMES) return process.env.VK_ICD_FILENAMES;
  const icd = findSwiftShaderIcd();
  if (icd) process.env.VK_ICD_FILENAMES = icd;
  return icd;
}
