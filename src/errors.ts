export { ShieldConfigError, type ShieldConfigErrorCode } from './errors/shield-error.js';
