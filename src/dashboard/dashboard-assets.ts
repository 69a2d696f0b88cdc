import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, NextFunction, Request, Response } from 'express';
import { dirname, join } from 'node:path';

/** Where the dashboard is served. */
export const DASHBOARD_PATH = '/dashboard';

/**
 * The page's own policy, replacing helmet's default on its responses: scripts, styles and API calls
 * from this origin only, no inline script or style, nothing framed. Without helmet's
 * `upgrade-insecure-requests`: a browser would fetch the page's scripts over https, so a dashboard
 * served over plain http (an internal network) would load none of them.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The chart library's browser files, served from its package (a production dependency). */
function vendorFiles(): Map<string, string> {
  const dist = dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return new Map([
    ['/vendor/uPlot.iife.min.js', join(dist, 'uPlot.iife.min.js')],
    ['/vendor/uPlot.min.css', join(dist, 'uPlot.min.css')],
  ]);
}

/**
 * Serves the dashboard (src/dashboard/public, copied to dist by nest-cli's assets) at /dashboard/, with
 * express.static mounted on the app rather than a controller: static files are no API route, so they
 * stay out of the OpenAPI document. The files hold no data and need no key (see accessRules); the page
 * calls the public REST API like any client. /dashboard redirects to /dashboard/ so the page's relative
 * URLs resolve under it.
 */
export function mountDashboard(app: NestExpressApplication): void {
  const vendor = vendorFiles();
  app.use(DASHBOARD_PATH, (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    const file = vendor.get(req.path);
    if (file === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.sendFile(file, (err) => {
      if (err) next(err);
    });
  });
  app.use(DASHBOARD_PATH, serveStatic(join(__dirname, 'public'), { index: 'index.html', redirect: true }));
}
