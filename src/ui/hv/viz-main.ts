// Entry point of viz.html: the hypervisor views on their own page.
import { mount } from 'svelte';
import VizPage from './VizPage.svelte';
import '../app.css';

mount(VizPage, { target: document.getElementById('app')! });
