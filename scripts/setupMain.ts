// `npm run setup` (and the first step of `npm test`): install what is missing (scripts/setup.ts).
import { hostEnv, loadConfig } from '../config.ts';
import { reportFatal, setup } from './setup.ts';

const options = { browser: process.argv.includes('--browser'), testServer: process.argv.includes('--test-server') };
setup(loadConfig(), hostEnv(), options, (line) => console.log(line)).catch(reportFatal);
