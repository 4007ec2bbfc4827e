// Bridges callback-style completions (the log's durability callbacks, the function pool)
// into coroutines: `co_await await_callback<T>([&](auto done) { start_work(done); })`.
// `done` may be called from any thread, exactly once; the coroutine resumes on its own
// executor (deferred: when `done` runs on an io thread, that thread resumes the coroutine
// once the current handler returns, rather than waking another thread to do it).
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>

namespace eddy::gateway {

template <class T, class Start>
boost::asio::awaitable<T> await_callback(Start start) {
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(T)>(
      [start = std::move(start)](auto handler) mutable {
        auto ex = boost::asio::get_associated_executor(handler);
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start(std::function<void(T)>([shared, ex](T value) mutable {
          boost::asio::defer(ex, [shared, value = std::move(value)]() mutable {
            (*shared)(std::move(value));
          });
        }));
      },
      boost::asio::use_awaitable);
}

}  // namespace eddy::gateway
