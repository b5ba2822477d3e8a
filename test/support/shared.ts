import path from 'node:path';

/**
 * The shared fixtures folder beside the project (`../shared`): official ISO 20022 schemas and NACHA
 * files, read in place and never copied. RAILYARD_SHARED_DIR points elsewhere when needed.
 */
export const SHARED_DIR = path.resolve(process.env.RAILYARD_SHARED_DIR ?? path.join(__dirname, '..', '..', '..', 'shared'));
