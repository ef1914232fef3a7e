import Mustache

/// The dashboard's pages as Mustache templates (`{{x}}` is HTML-escaped; `{{{svg}}}` is markup our code drew).
/// Kept in the binary, so the service needs no files beside it.
enum DashboardTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("login", login), ("overview", overview), ("spend", spend), ("fairshare", fairshare),
            ("keys", keys), ("revealed", revealed),
        ] {
            try library.register(text, named: name)
        }
        return library
    }

    static let layout = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Fairway</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#111;background:#fff;line-height:1.45}
        a{color:#0050a0}a:focus,button:focus,input:focus,select:focus{outline:3px solid #E69F00;outline-offset:2px}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}
        header{background:#0b2545;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
        header a{color:#fff;text-decoration:none;padding:.3rem .5rem;border-radius:4px}header a[aria-current=page]{background:#13315c;text-decoration:underline}
        header form{margin-left:auto}main{padding:1rem;max-width:980px;margin:0 auto}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.75rem}
        .card{border:1px solid #bbb;border-radius:6px;padding:.6rem .8rem}.card b{display:block;font-size:1.4rem}
        table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.95rem}th,td{border-bottom:1px solid #ccc;padding:.35rem .4rem;text-align:left}
        td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.chart{width:100%;height:auto;max-width:100%}
        .wrap{overflow-x:auto}button,input,select{font:inherit;padding:.35rem .6rem}button{background:#0b2545;color:#fff;border:0;border-radius:4px;cursor:pointer}
        .error{color:#a00000;font-weight:600}.secret{font-family:monospace;background:#fff6d6;padding:.5rem;word-break:break-all}
        form.inline{display:inline}label{margin-right:.5rem}
        </style></head><body>
        <a class="skip" href="#main">Skip to content</a>
        {{#nav}}<header><strong>Fairway</strong><nav aria-label="Main">
        <a href="/ui/overview" {{#overview}}aria-current="page"{{/overview}}>Overview</a>
        <a href="/ui/spend" {{#spend}}aria-current="page"{{/spend}}>Spend</a>
        <a href="/ui/fairshare" {{#fairshare}}aria-current="page"{{/fairshare}}>Fair share</a>
        <a href="/ui/keys" {{#keys}}aria-current="page"{{/keys}}>Keys</a></nav>
        <form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Log out</button></form></header>{{/nav}}
        <main id="main">{{{body}}}</main></body></html>
        """

    static let login = """
        <h1>Sign in</h1>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/ui/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <p><label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="current-password" required></p>
        <p><button type="submit">Sign in</button></p></form>
        """

    static let overview = """
        <h1>Overview</h1>
        {{#periods}}<h2>{{name}}</h2><div class="cards">
        <div class="card">Requests<b data-metric="requests">{{requests}}</b></div>
        <div class="card">Tokens<b data-metric="tokens">{{tokens}}</b></div>
        <div class="card">Spend<b data-metric="spend">{{spend}}</b></div>
        <div class="card">Error rate<b data-metric="error_rate">{{errorRate}}</b></div></div>{{/periods}}
        """

    static let spend = """
        <h1>Spend</h1>
        <form method="get" action="/ui/spend">
        <label for="from">From</label><input id="from" name="from" type="date" value="{{from}}">
        <label for="to">To</label><input id="to" name="to" type="date" value="{{to}}">
        <label for="by">By</label><select id="by" name="by"><option value="tenant" {{#byTenant}}selected{{/byTenant}}>Tenant</option><option value="model" {{^byTenant}}selected{{/byTenant}}>Model</option></select>
        <button type="submit">Show</button> <a href="/ui/spend.csv?from={{from}}&amp;to={{to}}&amp;by={{by}}">Download CSV</a></form>
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}
        <figure id="spend-chart" class="wrap">{{{chart}}}</figure>
        <div class="wrap"><table><caption>Daily spend by {{by}}</caption><thead><tr><th scope="col">Day</th><th scope="col">{{byLabel}}</th><th class="n" scope="col">Requests</th><th class="n" scope="col">Spend (USD)</th></tr></thead><tbody>
        {{#rows}}<tr><td>{{day}}</td><td>{{label}}</td><td class="n">{{requests}}</td><td class="n" data-cost="{{cost}}">{{cost}}</td></tr>{{/rows}}
        </tbody><tfoot><tr><th scope="row" colspan="3">Total</th><td class="n" data-total="{{total}}">{{total}}</td></tr></tfoot></table></div>
        """

    static let fairshare = """
        <h1>Fair share</h1><p>Mode: {{mode}}; usage decays with a half-life of {{halfLife}} s.</p>
        <figure class="wrap">{{{chart}}}</figure>
        <div class="wrap"><table><caption>Tenants</caption><thead><tr><th scope="col">Tenant</th><th class="n" scope="col">Weight</th><th class="n" scope="col">Share</th><th class="n" scope="col">Decayed usage</th></tr></thead><tbody>
        {{#tenants}}<tr><td>{{name}}</td><td class="n">{{weight}}</td><td class="n">{{share}}</td><td class="n">{{usage}}</td></tr>{{/tenants}}</tbody></table></div>
        <div class="wrap"><table><caption>Deployments with a concurrency cap</caption><thead><tr><th scope="col">Model</th><th class="n" scope="col">In flight</th><th class="n" scope="col">Capacity</th><th class="n" scope="col">Waiting</th></tr></thead><tbody>
        {{#deployments}}<tr><td>{{name}}</td><td class="n" data-in-flight="{{inFlight}}">{{inFlight}}</td><td class="n">{{capacity}}</td><td class="n">{{waiting}}</td></tr>{{/deployments}}</tbody></table></div>
        """

    static let keys = """
        <h1>Keys</h1>
        {{#tenants}}<h2>{{name}}</h2><div class="wrap"><table><thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead><tbody>
        {{#keys}}<tr><td>{{name}}</td><td><code>{{prefix}}</code></td><td>{{status}}</td><td>{{created}}</td><td>
        {{^disabled}}<form class="inline" method="post" action="/ui/keys/{{id}}/disable"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Disable {{name}}">Disable</button></form>{{/disabled}}
        <form class="inline" method="post" action="/ui/keys/{{id}}/rotate"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" aria-label="Rotate {{name}}">Rotate</button></form>
        </td></tr>{{/keys}}</tbody></table></div>{{/tenants}}
        {{^tenants}}<p>No keys yet.</p>{{/tenants}}
        """

    static let revealed = """
        <h1>Key rotated</h1><p role="alert">This is the only time the new secret is shown: store it now.</p>
        <p class="secret" id="secret">{{secret}}</p><p><a href="/ui/keys">Back to keys</a></p>
        """
}
