// markdown-it-texmath ships no types: the options Tally passes.
declare module "markdown-it-texmath" {
  import type MarkdownIt from "markdown-it";
  interface TexmathOptions {
    engine: { renderToString(tex: string, options?: object): string };
    delimiters?: string | string[];
    katexOptions?: object;
  }
  const texmath: (md: InstanceType<typeof MarkdownIt>, options: TexmathOptions) => void;
  export default texmath;
}
