// The window.bbs helper as the original system's spec shows it, pasted into an applet unchanged.
window.bbs = {
  _callbacks: {},
  _requestId: 0,
  _postMessage: function (command, payload = {}) {
    return new Promise((resolve, reject) => {
      const requestId = this._requestId++;
      this._callbacks[requestId] = { resolve, reject };
      window.parent.postMessage({ command, payload, requestId }, '*');
    });
  },
  getUserInfo: function () {
    return this._postMessage('getUserInfo');
  },
  saveData: function (data) {
    return this._postMessage('saveData', data);
  },
};
window.addEventListener('message', (event) => {
  const { command, requestId, payload, error } = event.data;
  if (command && command.startsWith('response_')) {
    const { resolve, reject } = window.bbs._callbacks[requestId];
    if (error) reject(new Error(error));
    else resolve(payload);
    delete window.bbs._callbacks[requestId];
  }
});
