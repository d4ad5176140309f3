import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { applyTheme, theme } from "./features/settings/theme.svelte";
import { loadRichMarkdown } from "./lib/markdown.svelte";

// Before the first frame, so it is already in the chosen colours.
applyTheme(theme.choice);

const app = mount(App, { target: document.getElementById("app")! });

// Math and code colouring load right after the first frame rather than in the middle of
// a streaming reply, where reading them would hold up its rendering.
setTimeout(() => void loadRichMarkdown(), 0);

export default app;
