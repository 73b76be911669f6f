// Entry point of migration.html: the live-migration view on its own page, fed from an NDJSON
// trace of `vizor migrate ... --trace FILE`.
import { mount } from 'svelte';
import MigrationPage from './MigrationPage.svelte';
import '../app.css';

mount(MigrationPage, { target: document.getElementById('app')! });
(globalThis as { __migration?: boolean }).__migration = true;
