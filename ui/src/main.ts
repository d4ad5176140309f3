import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { applyTheme, theme } from "./lib/theme.svelte";

// Before the first frame, so it is already in the chosen colours.
applyTheme(theme.choice);

const app = mount(App, { target: document.getElementById("app")! });

export default app;
