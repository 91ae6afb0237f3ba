/**
 * Side-effect module for apps: defines every element of `webccid/components`.
 * `import 'webccid/components/define';`
 */
import { defineAll } from './index.js';

defineAll();
