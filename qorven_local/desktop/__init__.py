"""The desktop shell: serve the API in-process and show the UI in a pywebview window.

    launcher.py         app.py's main(): single instance, server thread, window / browser / headless
    window.py           the pywebview window and the js_api bridge that hands the UI its token
    single_instance.py  one running Qorven per data root: a lock, and a control port for a 2nd launch
    tokens.py           per-launch API tokens for the window or browser, revoked on exit
"""
