/** Kept equal to package.json's version (a test checks it): bundles cannot read package.json portably. */
export const VERSION = '0.1.0'
